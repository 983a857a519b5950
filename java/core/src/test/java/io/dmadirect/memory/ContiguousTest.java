package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dmadirect.Zone;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Runs of whole frames: across frames of one MemoryRun, never across two runs, even adjacent ones. */
class ContiguousTest {
    private static final long FRAME = 64 * KiB;
    private static final long RUN_A = 0x1_0000_0000L;
    private static final long RUN_B = RUN_A + 4 * FRAME; // physically adjacent to A, but a separate run

    private static BuddyPageAllocator allocator() {
        return new BuddyPageAllocator(new TestMemory(FRAME).run(RUN_A, 4 * FRAME).run(RUN_B, 4 * FRAME),
                ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);
    }

    @Test
    void acrossFramesOfOneRun() {
        BuddyPageAllocator a = allocator();
        long h = a.allocContiguous(Zone.NORMAL, 3 * FRAME + 1, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, h);
        assertEquals(4 * FRAME, a.byteSize(h));
        ByteBuffer view = a.cpuView(h, (int) a.byteSize(h));
        view.put((int) (4 * FRAME - 1), (byte) 7);
        assertEquals(7, a.cpuView(h, (int) a.byteSize(h)).get((int) (4 * FRAME - 1)));
        long first = a.physAddress(h);
        assertEquals(first == RUN_A || first == RUN_B, true);
    }

    @Test
    void neverAcrossTwoRuns() {
        BuddyPageAllocator a = allocator();
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 5 * FRAME, PageAllocator.NO_LIMIT, false));
        long one = a.allocContiguous(Zone.NORMAL, 4 * FRAME, PageAllocator.NO_LIMIT, false);
        long two = a.allocContiguous(Zone.NORMAL, 4 * FRAME, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, one);
        assertNotEquals(PageAllocator.NO_PAGES, two);
        assertEquals(0, a.stats().zone(Zone.NORMAL).free());
    }

    @Test
    void tooLargeGivesNothingAndTouchesNothing() {
        BuddyPageAllocator a = allocator();
        long freeBefore = a.stats().zone(Zone.NORMAL).free();
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 9 * FRAME, PageAllocator.NO_LIMIT, true));
        assertEquals(freeBefore, a.stats().zone(Zone.NORMAL).free());
    }

    @Test
    void framesHeldByTheBuddyAllocatorAreNotTakenAndComeBackWhenFreed() {
        BuddyPageAllocator a = allocator();
        long page = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        long pageFrame = a.physAddress(page) & ~(FRAME - 1);
        long run = a.allocContiguous(Zone.NORMAL, 4 * FRAME, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, run);
        long start = a.physAddress(run);
        assertEquals(false, pageFrame >= start && pageFrame < start + 4 * FRAME, "run avoids the buddy frame");
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 4 * FRAME, PageAllocator.NO_LIMIT, false));
        a.free(page); // parked in this thread's cache: the frame is still pinned...
        long other = a.allocContiguous(Zone.NORMAL, 4 * FRAME, PageAllocator.NO_LIMIT, false);
        // ...until the failing allocation drains the cache and the arena gives the whole frame back.
        assertNotEquals(PageAllocator.NO_PAGES, other);
        a.free(run);
        a.free(other);
        assertEquals(a.stats().zone(Zone.NORMAL).total(), a.stats().zone(Zone.NORMAL).free());
    }

    @Test
    void growsOnceWhenAllowed() {
        TestMemory memory = new TestMemory(FRAME).run(RUN_A, 2 * FRAME).growRun(0x3_0000_0000L, 4 * FRAME);
        BuddyPageAllocator a = new BuddyPageAllocator(memory, ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 3 * FRAME, PageAllocator.NO_LIMIT, false));
        assertEquals(0, memory.growCalls.get());
        long h = a.allocContiguous(Zone.NORMAL, 3 * FRAME, PageAllocator.NO_LIMIT, true);
        assertNotEquals(PageAllocator.NO_PAGES, h);
        assertEquals(1, memory.growCalls.get());
        assertEquals(0x3_0000_0000L, a.physAddress(h));
        assertEquals(6 * FRAME, a.stats().zone(Zone.NORMAL).total());
        long pages = a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, true);
        assertNotEquals(PageAllocator.NO_PAGES, pages);
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 4 * FRAME, PageAllocator.NO_LIMIT, true));
        assertEquals(2, memory.growCalls.get(), "one more grow attempt, which found nothing");
    }
}
