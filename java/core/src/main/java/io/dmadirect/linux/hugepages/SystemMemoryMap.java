package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.KernelFiles;
import io.dmadirect.linux.LinuxException;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The highest physical address of RAM on this host: what the kernel derives from {@code max_pfn} in
 * {@code dma_direct_get_required_mask()}. Sources, in order, the first that answers wins:
 * <ol>
 *   <li>/proc/iomem "System RAM" lines: the kernel's own view, exact, but all zeros unless root;</li>
 *   <li>/sys/firmware/memmap entries of type "System RAM": the firmware (e820) map, readable by all,
 *       but it ignores a {@code mem=} limit on the command line;</li>
 *   <li>/proc/zoneinfo: the end of the highest zone span ({@code start_pfn + spanned}), which is
 *       {@code max_pfn} itself, readable by all;</li>
 *   <li>/sys/devices/system/memory: the end of the highest memory block, rounded up to the block size.</li>
 * </ol>
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/memory-hotplug.html">memory blocks</a>
 */
public final class SystemMemoryMap {
    private static final System.Logger LOG = System.getLogger(SystemMemoryMap.class.getName());
    private static final String PREFIX = "linux/memmap: ";
    private static final String SYSTEM_RAM = "System RAM";

    private final Path root;
    private final long basePageSize;

    /**
     * {@code root} is "/" on a host; a test points it at a copy of the files. {@code basePageSize} is
     * the kernel's PAGE_SIZE, the unit of the PFNs in zoneinfo.
     */
    public SystemMemoryMap(Path root, long basePageSize) {
        this.root = root;
        this.basePageSize = basePageSize;
    }

    public static SystemMemoryMap host(long basePageSize) {
        return new SystemMemoryMap(Path.of("/"), basePageSize);
    }

    /** The last byte address of RAM, from the first source that answers. */
    public long highestRamAddress() {
        OptionalLong found = read("proc/iomem", SystemMemoryMap::parseIomem);
        if (found.isEmpty()) {
            found = firmwareMemmap(root.resolve("sys/firmware/memmap"));
        }
        if (found.isEmpty()) {
            found = read("proc/zoneinfo", text -> parseZoneinfo(text, basePageSize));
        }
        if (found.isEmpty()) {
            found = memoryBlocks(root.resolve("sys/devices/system/memory"));
        }
        if (found.isEmpty()) {
            throw LinuxException.setup("find the highest physical address of RAM",
                    "none of /proc/iomem, /sys/firmware/memmap, /proc/zoneinfo, /sys/devices/system/memory "
                            + "could be read", "mount /proc and /sys");
        }
        return found.getAsLong();
    }

    /** The highest end of a "System RAM" range in /proc/iomem text; empty when none or all show 0 (not root). */
    static OptionalLong parseIomem(String iomem) {
        long highest = -1;
        for (String line : iomem.split("\n")) {
            int colon = line.indexOf(" : ");
            if (colon < 0 || !line.substring(colon + 3).trim().equals(SYSTEM_RAM)) {
                continue;
            }
            String[] range = line.substring(0, colon).trim().split("-");
            long end = Long.parseUnsignedLong(range[1], 16);
            highest = Math.max(highest, end);
        }
        return highest > 0 ? OptionalLong.of(highest) : OptionalLong.empty();
    }

    /** {@code max(start_pfn + spanned) * PAGE_SIZE - 1} over the zones in /proc/zoneinfo text. */
    static OptionalLong parseZoneinfo(String zoneinfo, long basePageSize) {
        long highestPfnEnd = 0;
        long spanned = -1;
        for (String raw : zoneinfo.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("Node ")) {
                spanned = -1;
            } else if (line.startsWith("spanned")) {
                spanned = Long.parseLong(line.substring("spanned".length()).trim());
            } else if (line.startsWith("start_pfn:") && spanned > 0) {
                long start = Long.parseLong(line.substring("start_pfn:".length()).trim());
                highestPfnEnd = Math.max(highestPfnEnd, start + spanned);
            }
        }
        return highestPfnEnd > 0 ? OptionalLong.of(highestPfnEnd * basePageSize - 1) : OptionalLong.empty();
    }

    private OptionalLong firmwareMemmap(Path dir) {
        long highest = -1;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                if (KernelFiles.read(entry.resolve("type")).trim().equals(SYSTEM_RAM)) {
                    highest = Math.max(highest, parseHex(KernelFiles.read(entry.resolve("end"))));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, PREFIX + "no firmware memmap: {0}", e.toString());
            return OptionalLong.empty();
        }
        return highest > 0 ? OptionalLong.of(highest) : OptionalLong.empty();
    }

    private OptionalLong memoryBlocks(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "memory[0-9]*")) {
            long blockSize = parseHex(KernelFiles.read(dir.resolve("block_size_bytes")));
            long highestBlock = -1;
            for (Path entry : entries) {
                highestBlock = Math.max(highestBlock, Long.parseLong(entry.getFileName().toString().substring(6)));
            }
            return highestBlock >= 0 ? OptionalLong.of((highestBlock + 1) * blockSize - 1) : OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, PREFIX + "no memory blocks: {0}", e.toString());
            return OptionalLong.empty();
        }
    }

    private OptionalLong read(String file, java.util.function.Function<String, OptionalLong> parser) {
        try {
            return parser.apply(KernelFiles.read(root.resolve(file)));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, PREFIX + "cannot use /{0}: {1}", file, e.toString());
            return OptionalLong.empty();
        }
    }

    private static long parseHex(String text) {
        String t = text.trim();
        return Long.parseUnsignedLong(t.startsWith("0x") ? t.substring(2) : t, 16);
    }
}
