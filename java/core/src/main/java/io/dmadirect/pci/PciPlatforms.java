package io.dmadirect.pci;

import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.direct.PlatformParts;
import io.dmadirect.iova.CpuViews;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.bridge.CacheMaintenanceBridge;
import io.dmadirect.swiotlb.SwiotlbConfig;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.memory.ZoneLayout;
import io.dmadirect.spi.MemoryEncryption;
import io.dmadirect.spi.PhysicalMemory;

/**
 * The dma-direct platform over the memory of each address mode, built from {@link PlatformParts} the
 * way the simulated platform is. PA mode: hugepages by physical address. IOVA mode: the same hugepages
 * by the IOVAs of an {@link IovaMemory}. Kept in one small class so it can move to
 * {@code DmaPlatform.openLinux(...)} once that exists.
 */
public final class PciPlatforms {
    private static final long ATOMIC_POOL = 256 * Sizes.KiB;
    private static final long ATOMIC_POOL_MAX = 4 * Sizes.MiB;
    /**
     * Extra bounce pools ({@code SWIOTLB_DYNAMIC}) a device may take below its own limit. The default pool is
     * taken from ZONE_DMA32, wherever the hugepage source has memory there: in PA mode that is any physical
     * address below 4 GiB (the rig's 1 GiB no-IOMMU guest got 0x28800000), out of reach of a 28-bit device
     * such as edu, whose heap mappings then all failed. IOVA mode places low IOVAs first and needs none.
     */
    private static final long DYNAMIC_POOLS_MAX = 8 * Sizes.MiB;

    private PciPlatforms() {
    }

    /**
     * The bounce pool of a PCI platform: the process default, plus up to 8 MiB of extra pools taken
     * below a device's limit on demand. In PA mode the default pool may lie beyond a narrow device's
     * reach (in the rig's 1 GiB guest it landed at 0x28800000, beyond the edu's 28 bits).
     */
    public static SwiotlbConfig defaultBounce() {
        return SwiotlbConfig.processDefaults().withDynamicMax(DYNAMIC_POOLS_MAX);
    }

    /** A platform over memory whose "physical" addresses are what the device uses: pagemap PAs, or IOVAs. */
    public static DirectPlatform over(String name, PhysicalMemory memory, ZoneLayout zones) {
        return over(name, memory, zones, defaultBounce());
    }

    /** As {@link #over(String, PhysicalMemory, ZoneLayout)}, with the bounce pool set up as {@code bounce} says (e.g. forced). */
    public static DirectPlatform over(String name, PhysicalMemory memory, ZoneLayout zones, SwiotlbConfig bounce) {
        return new DirectPlatform(new PlatformParts(name, memory, PageAllocators.standard(memory, zones), zones,
                MemoryEncryption.NONE, false, CacheMaintenanceBridge.load(), null, ATOMIC_POOL, ATOMIC_POOL_MAX,
                bounce));
    }

    /** IOVA mode: maps {@code memory} into {@code iommu} (see {@link IovaMemory}) and builds the platform over the IOVAs. */
    public static DirectPlatform iova(String name, PhysicalMemory memory, IommuBackend iommu, ZoneLayout zones,
            CpuViews views) {
        IovaMemory iovaMemory = IovaMemory.map(memory, iommu, zones, views);
        return over(name, iovaMemory, zones);
    }
}
