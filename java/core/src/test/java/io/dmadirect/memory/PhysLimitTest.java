package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Zone;
import org.junit.jupiter.api.Test;

/** A physical limit makes the allocator search below it, where the fast path would have gone above. */
class PhysLimitTest {
    private static final long FRAME = 64 * KiB;
    private static final long LOW_RUN = 0x1_0000_0000L;
    private static final long HIGH_RUN = 0x2_0000_0000L;
    private static final long LIMIT = HIGH_RUN - 1;

    private static BuddyPageAllocator allocator() {
        return new BuddyPageAllocator(new TestMemory(FRAME).run(LOW_RUN, 4 * FRAME).run(HIGH_RUN, 4 * FRAME),
                ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);
    }

    private static boolean below(BuddyPageAllocator a, long handle, long limit) {
        return Long.compareUnsigned(a.physAddress(handle) + a.byteSize(handle) - 1, limit) <= 0;
    }

    @Test
    void limitFindsPagesBelowWhereTheFastPathGoesAbove() {
        BuddyPageAllocator a = allocator();
        long fast = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        assertTrue(!below(a, fast, LIMIT), "precondition: the fast path serves from the high run");
        long limited = a.allocPages(Zone.NORMAL, 4 * KiB, LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, limited);
        assertTrue(below(a, limited, LIMIT));
        // Next limited requests use the partly used low frame or further low frames, never the high ones.
        for (int i = 0; i < (4 * FRAME) / (16 * KiB) - 1; i++) {
            long h = a.allocPages(Zone.NORMAL, 16 * KiB, LIMIT, false);
            assertNotEquals(PageAllocator.NO_PAGES, h, "request " + i);
            assertTrue(below(a, h, LIMIT));
        }
    }

    @Test
    void limitInsideAFrameUsesOnlyItsLowPart() {
        BuddyPageAllocator a = allocator();
        long limit = LOW_RUN + 8 * KiB - 1; // only the first two pages of the lowest frame
        long first = a.allocPages(Zone.NORMAL, 4 * KiB, limit, false);
        long second = a.allocPages(Zone.NORMAL, 4 * KiB, limit, false);
        assertTrue(below(a, first, limit) && below(a, second, limit));
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, 4 * KiB, limit, false));
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, 16 * KiB, limit, false));
    }

    @Test
    void limitBelowAllMemoryGivesNothing() {
        BuddyPageAllocator a = allocator();
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, 4 * KiB, LOW_RUN - 1, false));
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 2 * FRAME, LOW_RUN - 1, false));
    }

    @Test
    void limitAppliesToContiguousRuns() {
        BuddyPageAllocator a = allocator();
        long fast = a.allocContiguous(Zone.NORMAL, 2 * FRAME, PageAllocator.NO_LIMIT, false);
        a.free(fast);
        long h = a.allocContiguous(Zone.NORMAL, 4 * FRAME, LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, h);
        assertEquals(LOW_RUN, a.physAddress(h));
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, FRAME, LIMIT, false), "low run is used up");
    }

    @Test
    void unsignedLimitAboveEverythingIsTheFastPath() {
        BuddyPageAllocator a = allocator();
        long h = a.allocPages(Zone.NORMAL, 4 * KiB, 0x8000_0000_0000_0000L, false);
        assertNotEquals(PageAllocator.NO_PAGES, h, "a limit with the top bit set is huge, not negative");
    }
}
