package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BadInputTest {
    private static final long FRAME = 64 * KiB;

    private final TestMemory memory = new TestMemory(FRAME).run(0x1_0000_0000L, 4 * FRAME);
    private final BuddyPageAllocator a = new BuddyPageAllocator(memory, ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE, FRAME + 1, Long.MAX_VALUE})
    void allocPagesRejectsSizesOutsideOnePageToOneFrame(long bytes) {
        assertThrows(IllegalArgumentException.class,
                () -> a.allocPages(Zone.NORMAL, bytes, PageAllocator.NO_LIMIT, true));
        assertEquals(0, memory.growCalls.get());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void allocContiguousRejectsNonPositiveSizes(long bytes) {
        assertThrows(IllegalArgumentException.class,
                () -> a.allocContiguous(Zone.NORMAL, bytes, PageAllocator.NO_LIMIT, true));
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE / 2, 1L << 62})
    void allocContiguousOfHugeSizesGivesNothingWithoutOverflow(long bytes) {
        MemoryStats before = a.stats();
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, bytes, PageAllocator.NO_LIMIT, true));
        assertEquals(before, a.stats());
    }

    @ParameterizedTest
    @ValueSource(longs = {4 * 1024, 64 * 1024, 3 * FRAME})
    void doubleFreeThrowsAndChangesNothing(long bytes) {
        long h = bytes > FRAME ? a.allocContiguous(Zone.NORMAL, bytes, PageAllocator.NO_LIMIT, false)
                : a.allocPages(Zone.NORMAL, bytes, PageAllocator.NO_LIMIT, false);
        a.free(h);
        MemoryStats before = a.stats();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.free(h));
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(h)), e.getMessage());
        assertTrue(e.getMessage().contains("double free"), e.getMessage());
        assertEquals(before, a.stats());
    }

    @Test
    void doubleFreeIsCaughtAfterTheCacheReturnedTheBlock() {
        long h = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        a.free(h);
        a.drainThreadCaches();
        MemoryStats before = a.stats();
        assertThrows(IllegalStateException.class, () -> a.free(h));
        assertEquals(before, a.stats());
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, 1L, 0x7fff_ffff_0000_0001L, 0x0000_0000_0000_0103L, 0x0000_0000_0000_1005L,
            0x0000_0000_0000_00ffL, Long.MIN_VALUE, Long.MIN_VALUE | 5, Long.MIN_VALUE | (3L << 32) | 2, -1L})
    void freeOfAGarbageHandleThrows(long garbage) {
        long live = a.allocPages(Zone.NORMAL, 8 * KiB, PageAllocator.NO_LIMIT, false);
        MemoryStats before = a.stats();
        if (garbage != live) {
            assertThrows(IllegalStateException.class, () -> a.free(garbage));
        }
        assertEquals(before, a.stats());
        a.free(live);
    }

    @Test
    void setOwnerOnAFreedHandleThrows() {
        long h = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        a.free(h);
        assertThrows(IllegalStateException.class, () -> a.setOwner(h, "x"));
    }

    @Test
    void cpuViewBeyondTheAllocationIsRefused() {
        long h = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        assertThrows(IllegalArgumentException.class, () -> a.cpuView(h, 4096 + 1));
        assertThrows(IllegalArgumentException.class, () -> a.cpuView(h, -1));
        assertEquals(4096, a.cpuView(h, 4096).remaining());
    }

    @Test
    void closedAllocatorRefusesAllocations() {
        long h = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        a.close();
        // The documented exception of the API (issue 15 finding 6), not an IllegalStateException.
        assertThrows(io.dmadirect.DmaUsageException.class,
                () -> a.allocPages(Zone.NORMAL, 4096, PageAllocator.NO_LIMIT, false));
        a.free(h);
    }
}
