package io.dmadirect.memory;

import io.dmadirect.Zone;
import io.dmadirect.ZoneStats;

/**
 * One zone: its pool of whole frames and its striped buddy arenas. A thread allocates from its own arena
 * first (no other thread is usually there), then from a fresh frame, and only then looks into the other
 * arenas, so that memory stranded in another arena is still found before the zone counts as full.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/page_alloc.c">rmqueue(), rmqueue_buddy()</a>
 */
final class ZoneAllocator {
    final Zone zone;
    final FramePool pool;
    private final BuddyArena[] arenas;

    private final long frameSize;

    ZoneAllocator(Zone zone, FrameTableHolder tables, AllocatorConfig config) {
        this.zone = zone;
        this.pool = new FramePool(zone, tables);
        this.frameSize = tables.get().frameSize;
        int maxOrder = tables.get().maxOrder;
        this.arenas = new BuddyArena[config.arenasPerZone()];
        for (int i = 0; i < arenas.length; i++) {
            arenas[i] = new BuddyArena(pool, tables, maxOrder, config.keepWholeFrames());
        }
    }

    boolean isEmpty() {
        return pool.totalFrames() == 0;
    }

    /**
     * A block of {@code order}, from the arena {@code arenaSlot} picks, then from any arena.
     *
     * @return the global page id, or -1
     */
    int allocPages(int order, long physLimit, int arenaSlot) {
        int home = arenaSlot & (arenas.length - 1);
        int g = arenas[home].allocate(order, physLimit, true);
        for (int i = 1; g < 0 && i < arenas.length; i++) {
            g = arenas[(home + i) & (arenas.length - 1)].allocate(order, physLimit, false);
        }
        return g;
    }

    /**
     * {@code frames} contiguous frames; when the pool alone has no such run, the arenas first give back the
     * frames they hold wholly free.
     *
     * @return the head frame index, or -1
     */
    int allocContiguous(int frames, long physLimit) {
        int head = pool.allocContiguous(frames, physLimit);
        if (head < 0) {
            for (BuddyArena arena : arenas) {
                arena.returnWholeFrames();
            }
            head = pool.allocContiguous(frames, physLimit);
        }
        return head;
    }

    /** Whether any of the zone's memory ends at or below the limit. */
    boolean hasMemoryBelow(long physLimit) {
        return !isEmpty() && Long.compareUnsigned(pool.lowestLastByte(), physLimit) <= 0;
    }

    /** The limit to search with: {@link PageAllocator#NO_LIMIT} (the fast path) when it excludes nothing here. */
    long effectiveLimit(long physLimit) {
        if (physLimit == PageAllocator.NO_LIMIT || Long.compareUnsigned(physLimit, pool.highestLastByte()) >= 0) {
            return PageAllocator.NO_LIMIT;
        }
        return physLimit;
    }

    /** Free bytes in the pool and the arenas, not counting thread caches; racy, like zone_page_state(). */
    long freeBytes() {
        long bytes = pool.freeFrames() * frameSize;
        for (BuddyArena arena : arenas) {
            bytes += arena.freeBytes();
        }
        return bytes;
    }

    ZoneStats stats(long cachedBytes) {
        long largest = pool.largestFreeBytes();
        for (BuddyArena arena : arenas) {
            largest = Math.max(largest, arena.largestFreeBytes());
        }
        return new ZoneStats(zone, pool.totalFrames() * frameSize, freeBytes(), cachedBytes, largest);
    }
}
