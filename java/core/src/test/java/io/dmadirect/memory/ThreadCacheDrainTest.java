package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Zone;
import io.dmadirect.ZoneStats;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class ThreadCacheDrainTest {
    private static final long FRAME = 64 * KiB;
    private static final int PAGES = (int) (FRAME / PageAllocator.PAGE_SIZE);

    private static BuddyPageAllocator oneFrame() {
        return new BuddyPageAllocator(new TestMemory(FRAME).run(0x1_0000_0000L, FRAME), ZoneLayout.DEFAULT,
                AllocatorConfig.DEFAULT.withThreadCache(4, 64));
    }

    /** A thread takes every page and frees them all into its cache, then ends. */
    private static void fillCacheInThreadThatEnds(BuddyPageAllocator a) throws InterruptedException {
        Thread t = new Thread(() -> {
            long[] handles = new long[PAGES];
            for (int i = 0; i < PAGES; i++) {
                handles[i] = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
            }
            for (long h : handles) {
                a.free(h);
            }
        });
        t.start();
        t.join();
    }

    @Test
    void drainReturnsTheCacheOfADeadThread() throws InterruptedException {
        BuddyPageAllocator a = oneFrame();
        fillCacheInThreadThatEnds(a);
        ZoneStats parked = a.stats().zone(Zone.NORMAL);
        assertEquals(FRAME, parked.cached());
        assertEquals(0, parked.free());
        a.drainThreadCaches();
        ZoneStats drained = a.stats().zone(Zone.NORMAL);
        assertEquals(0, drained.cached());
        assertEquals(FRAME, drained.free());
        assertEquals(FRAME, drained.largestFree());
    }

    @Test
    void aFailingAllocationDrainsDeadThreadsAndRetries() throws InterruptedException {
        BuddyPageAllocator a = oneFrame();
        fillCacheInThreadThatEnds(a);
        long whole = a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, whole, "the dead thread's pages merged back into the frame");
    }

    @Test
    void aFailingAllocationDrainsTheCallersCache() {
        BuddyPageAllocator a = oneFrame();
        long small = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        a.free(small);
        assertEquals(4 * KiB, a.stats().zone(Zone.NORMAL).cached());
        assertNotEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false));
    }

    @Test
    void aLiveThreadDrainsAtItsNextOperationWhenAsked() throws InterruptedException {
        BuddyPageAllocator a = oneFrame();
        CountDownLatch cached = new CountDownLatch(1);
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            long h = a.allocPages(Zone.NORMAL, 8 * KiB, PageAllocator.NO_LIMIT, false);
            a.free(h);
            cached.countDown();
            await(asked);
            // Any operation drains first; this one allocates and frees a block of another size.
            a.free(a.allocPages(Zone.NORMAL, 16 * KiB, PageAllocator.NO_LIMIT, false));
            done.countDown();
            await(new CountDownLatch(1)); // stay alive
        });
        t.setDaemon(true);
        t.start();
        cached.await();
        a.drainThreadCaches();
        assertEquals(8 * KiB, a.stats().zone(Zone.NORMAL).cached(), "a live thread's cache is only flagged");
        asked.countDown();
        done.await();
        assertEquals(16 * KiB, a.stats().zone(Zone.NORMAL).cached(), "the old entry was drained, the new one cached");
        t.interrupt();
    }

    /** Memory short: an allocation that finds nothing asks live threads to give back what they parked (issue 18). */
    @Test
    void aFailingAllocationAsksLiveThreadsToDrainSoThatTheRetryAfterTheirNextOperationSucceeds()
            throws InterruptedException {
        BuddyPageAllocator a = oneFrame();
        CountDownLatch cached = new CountDownLatch(1);
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            long[] handles = new long[PAGES];
            for (int i = 0; i < PAGES; i++) {
                handles[i] = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
            }
            for (long h : handles) {
                a.free(h);
            }
            cached.countDown();
            await(asked);
            a.allocPages(Zone.DMA, 4 * KiB, PageAllocator.NO_LIMIT, false); // any call drains first; no ZONE_DMA here
            done.countDown();
            await(new CountDownLatch(1)); // stay alive
        });
        t.setDaemon(true);
        t.start();
        cached.await();
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false),
                "the live thread's cache holds every page");
        asked.countDown();
        done.await();
        assertNotEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false),
                "asked by the failure, the thread drained at its next operation");
        t.interrupt();
    }

    @Test
    void freesFromAnotherThreadGoToThatThreadsCache() throws InterruptedException {
        BuddyPageAllocator a = oneFrame();
        long h = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        Thread t = new Thread(() -> a.free(h));
        t.start();
        t.join();
        assertEquals(4 * KiB, a.stats().zone(Zone.NORMAL).cached());
        assertTrue(a.stats().zone(Zone.NORMAL).free() < FRAME);
        a.drainThreadCaches();
        assertEquals(FRAME, a.stats().zone(Zone.NORMAL).free());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
