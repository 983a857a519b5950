package io.dmadirect.hil;

import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.ZoneStats;
import io.dmadirect.direct.DirectPlatform;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a platform has handed out and what the process holds, to show that a failed operation gave
 * everything back: the bytes in use (total minus free minus per-thread caches, so that the arena growing
 * does not count), the bounce slots in use, and the eventfds of this process (interrupt vectors).
 */
record UsageBaseline(long usedBytes, long usedSlots, int eventfds) {

    static UsageBaseline of(DirectPlatform platform) {
        MemoryStats stats = platform.memoryStats();
        long used = 0;
        for (ZoneStats z : stats.zones()) {
            used += z.total() - z.free() - z.cached();
        }
        return new UsageBaseline(used, platform.swiotlb() == null ? 0 : platform.swiotlb().usedSlots(), openEventfds());
    }

    /**
     * The same, leaving out {@code keptBytes} of memory a driver holds on purpose between operations (a dma_pool's
     * pages, which it keeps until it is closed): those are not in use by any operation.
     */
    static UsageBaseline of(DirectPlatform platform, long keptBytes) {
        UsageBaseline all = of(platform);
        return new UsageBaseline(all.usedBytes - keptBytes, all.usedSlots, all.eventfds);
    }

    /** Throws when {@code platform} now differs from this baseline; {@code after} names the moment. */
    void check(DirectPlatform platform, String after) {
        check(platform, 0, after);
    }

    /** As {@link #check(DirectPlatform, String)}, leaving out {@code keptBytes} as {@link #of(DirectPlatform, long)} does. */
    void check(DirectPlatform platform, long keptBytes, String after) {
        UsageBaseline now = of(platform, keptBytes);
        if (!now.equals(this)) {
            throw new IllegalStateException("a leak " + after + ": before " + this + ", now " + now);
        }
    }

    /** The eventfds open in this process: each interrupt vector a driver enables holds one. */
    static int openEventfds() {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("anon_inode:[eventfd]")) {
                        n++;
                    }
                } catch (IOException e) {
                    // the descriptor of the directory listing itself, closed meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
        return n;
    }

    @Override
    public String toString() {
        return Sizes.format(usedBytes) + " in use, " + usedSlots + " bounce slots, " + eventfds + " eventfds";
    }
}
