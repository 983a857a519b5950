package io.dmadirect.linux.hugepages;

import io.dmadirect.Sizes;
import io.dmadirect.spi.ZoneLayout;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How {@link HugepageMemory} gets its memory.
 *
 * @param pageSize 2 MiB (the default) or 1 GiB pages
 * @param initialBytes taken at open, rounded up to whole pages
 * @param maxBytes the most that {@code grow} may reach, low-memory reserve not counted
 * @param hugetlbfsDirectory a directory on a hugetlbfs mount of {@code pageSize} to create the backing
 *        files in; null (the default) for memfd_create, which needs no mount and leaves nothing behind
 * @param name shown in /proc/PID/maps as {@code /memfd:<name>}
 * @param lowMemory the low-memory reserve to take at open in PA mode; {@link LowMemoryQuota#NONE} for none.
 *        Memory opened for an IOMMU does not take it: IOVAs, not physical pages, are placed low there
 * @param zoneLayout where ZONE_DMA and ZONE_DMA32 end, for the low-memory reserve
 * @param node the NUMA node to take the pages from first ({@code MPOL_PREFERRED}: other nodes when it has too few),
 *        or {@link #ANY_NODE}; a {@link io.dmadirect.host.PciSession} then takes the device's node from sysfs, as
 *        the kernel's {@code dev_to_node} does for DMA memory
 */
public record HugepageOptions(HugepageSize pageSize, long initialBytes, long maxBytes, Path hugetlbfsDirectory,
        String name, LowMemoryQuota lowMemory, ZoneLayout zoneLayout, int node) {

    /** No node preferred: the kernel's default policy, or the device's node when a session opens a device. */
    public static final int ANY_NODE = -1;

    public static final HugepageOptions DEFAULTS = new HugepageOptions(HugepageSize.SIZE_2M, 64 * Sizes.MiB,
            Sizes.GiB, null, "dmadirect", LowMemoryQuota.NONE, ZoneLayout.DEFAULT, ANY_NODE);

    public HugepageOptions {
        Objects.requireNonNull(pageSize, "pageSize");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(lowMemory, "lowMemory");
        Objects.requireNonNull(zoneLayout, "zoneLayout");
        if (node < ANY_NODE || node > 63) {
            throw new IllegalArgumentException("NUMA node " + node + ": want 0 to 63, or ANY_NODE (-1)");
        }
        if (initialBytes < 0 || maxBytes < initialBytes) {
            throw new IllegalArgumentException("need 0 <= initialBytes <= maxBytes, got " + initialBytes
                    + " and " + maxBytes);
        }
    }

    public HugepageOptions withPageSize(HugepageSize size) {
        return new HugepageOptions(size, initialBytes, maxBytes, hugetlbfsDirectory, name, lowMemory, zoneLayout, node);
    }

    /** Sets the initial size and raises the maximum to it if it was lower. */
    public HugepageOptions withInitialBytes(long bytes) {
        return new HugepageOptions(pageSize, bytes, Math.max(bytes, maxBytes), hugetlbfsDirectory, name, lowMemory,
                zoneLayout, node);
    }

    public HugepageOptions withMaxBytes(long bytes) {
        return new HugepageOptions(pageSize, initialBytes, bytes, hugetlbfsDirectory, name, lowMemory, zoneLayout, node);
    }

    public HugepageOptions withHugetlbfs(Path directory) {
        return new HugepageOptions(pageSize, initialBytes, maxBytes, directory, name, lowMemory, zoneLayout, node);
    }

    public HugepageOptions withName(String newName) {
        return new HugepageOptions(pageSize, initialBytes, maxBytes, hugetlbfsDirectory, newName, lowMemory,
                zoneLayout, node);
    }

    public HugepageOptions withLowMemory(LowMemoryQuota quota) {
        return new HugepageOptions(pageSize, initialBytes, maxBytes, hugetlbfsDirectory, name, quota, zoneLayout, node);
    }

    public HugepageOptions withZoneLayout(ZoneLayout layout) {
        return new HugepageOptions(pageSize, initialBytes, maxBytes, hugetlbfsDirectory, name, lowMemory, layout, node);
    }

    /** Takes the pages from NUMA node {@code n} first, or from any with {@link #ANY_NODE}. */
    public HugepageOptions withNode(int n) {
        return new HugepageOptions(pageSize, initialBytes, maxBytes, hugetlbfsDirectory, name, lowMemory, zoneLayout, n);
    }

    /** {@code bytes} in whole pages, rounded up. */
    long pagesFor(long bytes) {
        return (bytes + pageSize.bytes() - 1) / pageSize.bytes();
    }
}
