package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.KernelFiles;
import io.dmadirect.linux.LinuxException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kernel reports free: per zone from /proc/zoneinfo, and MemAvailable from /proc/meminfo. The
 * low-memory reserve watches the low zones' free pages to see when the kernel starts handing out
 * hugepages from them, and MemAvailable so that it never starves the rest of the host.
 *
 * @see <a href="https://docs.kernel.org/filesystems/proc.html">/proc/zoneinfo and /proc/meminfo</a>
 */
final class FreeMemory {
    static final FreeMemory HOST = new FreeMemory(Path.of("/proc"));

    private final Path proc;

    FreeMemory(Path proc) {
        this.proc = proc;
    }

    /** Free base pages in ZONE_DMA and ZONE_DMA32 of all nodes: the memory below 4 GiB. */
    long lowZoneFreePages() {
        return lowZoneFreePages(read("zoneinfo"));
    }

    /** Free base pages in the zones above 4 GiB (Normal, Movable) of all nodes: what a ballast must use up first. */
    long highZoneFreePages() {
        return highZoneFreePages(read("zoneinfo"));
    }

    static long highZoneFreePages(String zoneinfo) {
        return zoneFreePages(zoneinfo, java.util.Set.of("Normal", "Movable"));
    }

    /** MemAvailable in bytes: what can be had without swapping. */
    long availableBytes() {
        for (String line : read("meminfo").split("\n")) {
            if (line.startsWith("MemAvailable:")) {
                return Long.parseLong(line.substring("MemAvailable:".length()).replace("kB", "").trim()) * 1024;
            }
        }
        throw LinuxException.setup("read MemAvailable", "no MemAvailable line in " + proc.resolve("meminfo"),
                "use Linux 3.14 or later");
    }

    static long lowZoneFreePages(String zoneinfo) {
        return zoneFreePages(zoneinfo, java.util.Set.of("DMA", "DMA32"));
    }

    private static long zoneFreePages(String zoneinfo, java.util.Set<String> zones) {
        long free = 0;
        boolean low = false;
        for (String raw : zoneinfo.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("Node ")) {
                String zone = line.substring(line.lastIndexOf(' ') + 1);
                low = zones.contains(zone);
            } else if (low && line.startsWith("pages free")) {
                free += Long.parseLong(line.substring("pages free".length()).trim());
            }
        }
        return free;
    }

    private String read(String file) {
        try {
            return KernelFiles.read(proc.resolve(file));
        } catch (IOException e) {
            throw LinuxException.setup("read " + proc.resolve(file), e.toString(), "mount /proc");
        }
    }
}
