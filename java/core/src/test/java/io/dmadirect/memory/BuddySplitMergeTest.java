package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Zone;
import io.dmadirect.ZoneStats;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class BuddySplitMergeTest {
    private static final long FRAME = 64 * KiB;
    private static final long BASE = 0x1_0000_0000L;
    private static final int FRAMES = 4;
    private static final AllocatorConfig NO_CACHE = AllocatorConfig.DEFAULT.withThreadCache(0, 0).withArenasPerZone(1);

    private static BuddyPageAllocator allocator(AllocatorConfig config) {
        return new BuddyPageAllocator(new TestMemory(FRAME).run(BASE, FRAMES * FRAME), ZoneLayout.DEFAULT, config);
    }

    @Test
    void everyPageOnceThenNothing() {
        BuddyPageAllocator a = allocator(NO_CACHE);
        long pages = FRAMES * FRAME / PageAllocator.PAGE_SIZE;
        List<Long> handles = new ArrayList<>();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (long i = 0; i < pages; i++) {
            long h = a.allocPages(Zone.NORMAL, 1, PageAllocator.NO_LIMIT, false);
            assertNotEquals(PageAllocator.NO_PAGES, h, "page " + i);
            assertTrue(seen.add(a.physAddress(h)), "page handed out twice");
            handles.add(h);
        }
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, 1, PageAllocator.NO_LIMIT, false));
        assertEquals(0, a.stats().zone(Zone.NORMAL).free());
        Collections.shuffle(handles, new Random(1));
        handles.forEach(a::free);
        assertAllFreeAndMerged(a, FRAMES * FRAME);
    }

    @Test
    void splittingKeepsFreeBytesAndFreeingMergesBuddiesBackToAFrame() {
        BuddyPageAllocator a = new BuddyPageAllocator(new TestMemory(FRAME).run(BASE, FRAME), ZoneLayout.DEFAULT,
                NO_CACHE);
        long first = a.allocPages(Zone.NORMAL, PageAllocator.PAGE_SIZE, PageAllocator.NO_LIMIT, false);
        ZoneStats afterOne = a.stats().zone(Zone.NORMAL);
        assertEquals(FRAME - PageAllocator.PAGE_SIZE, afterOne.free());
        // The split left one free block of each order 0..maxOrder-1; the largest is half the frame.
        assertEquals(FRAME / 2, afterOne.largestFree());
        long second = a.allocPages(Zone.NORMAL, PageAllocator.PAGE_SIZE, PageAllocator.NO_LIMIT, false);
        assertEquals(a.physAddress(first) ^ PageAllocator.PAGE_SIZE, a.physAddress(second), "buddies are adjacent");
        // A whole frame cannot be had while any page is in use.
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false));
        a.free(first);
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false));
        a.free(second);
        long whole = a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, whole, "freeing both buddies merges back to the whole frame");
        assertEquals(BASE, a.physAddress(whole));
        a.free(whole);
        assertAllFreeAndMerged(a, FRAME);
    }

    @Test
    void randomOrdersAreAlignedDisjointAndMergeBack() {
        for (AllocatorConfig config : List.of(NO_CACHE, AllocatorConfig.DEFAULT)) {
            BuddyPageAllocator a = allocator(config);
            Random random = new Random(42);
            TreeMap<Long, Long> live = new TreeMap<>(); // phys -> handle
            for (int step = 0; step < 20_000; step++) {
                if (!live.isEmpty() && random.nextInt(100) < 45) {
                    Long phys = live.keySet().stream().skip(random.nextInt(live.size())).findFirst().orElseThrow();
                    a.free(live.remove(phys));
                    continue;
                }
                long bytes = 1 + random.nextInt((int) FRAME);
                long h = a.allocPages(Zone.NORMAL, bytes, PageAllocator.NO_LIMIT, false);
                if (h == PageAllocator.NO_PAGES) {
                    continue;
                }
                long phys = a.physAddress(h);
                long size = a.byteSize(h);
                assertTrue(size >= bytes && Long.bitCount(size) == 1, "power-of-two pages that hold the request");
                assertEquals(0, (phys - BASE) % size, "a block is aligned to its size");
                assertTrue(phys >= BASE && phys + size <= BASE + FRAMES * FRAME);
                var below = live.floorEntry(phys);
                assertTrue(below == null || below.getKey() + a.byteSize(below.getValue()) <= phys, "overlap");
                var above = live.ceilingEntry(phys);
                assertTrue(above == null || phys + size <= above.getKey(), "overlap");
                live.put(phys, h);
            }
            live.values().forEach(a::free);
            a.drainThreadCaches();
            assertAllFreeAndMerged(a, FRAMES * FRAME);
        }
    }

    private static void assertAllFreeAndMerged(BuddyPageAllocator a, long memoryBytes) {
        ZoneStats stats = a.stats().zone(Zone.NORMAL);
        assertEquals(stats.total(), stats.free());
        assertEquals(0, stats.cached());
        assertEquals(memoryBytes, stats.largestFree(), "all frames whole again and contiguous");
        long all = a.allocContiguous(Zone.NORMAL, memoryBytes, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, all, "every frame can be taken as one run again");
        a.free(all);
    }
}
