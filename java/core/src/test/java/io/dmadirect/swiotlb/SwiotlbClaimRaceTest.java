package io.dmadirect.swiotlb;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.MemoryEncryption;
import io.dmadirect.spi.SwiotlbConfig;
import io.dmadirect.spi.ZoneLayout;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The unmap's claim and the claim folded into a release ({@link Swiotlb#claimAndRelease}) both run under the area
 * lock: two unmaps of one mapping racing, one through each, have exactly one winner, and the slots are freed once.
 * Also the statistics' byte counts kept under the area lock: a map counted once, a failed map uncounted, a copy
 * back counted at its release.
 */
class SwiotlbClaimRaceTest {
    private SimulatedMemory memory;
    private PageAllocator pages;

    private Swiotlb pool() {
        memory = new SimulatedMemory(2 * MiB, List.of(new long[] {0, 16 * MiB}), -1L);
        pages = PageAllocators.standard(memory, ZoneLayout.DEFAULT);
        return Swiotlb.create(SwiotlbConfig.defaults().withBytes(2 * MiB), pages, memory.frameSize(),
                MemoryEncryption.NONE, false);
    }

    @AfterEach
    void tearDown() {
        if (pages != null) {
            pages.close();
            memory.close();
        }
    }

    @Test
    void aClaimAndAClaimingReleaseRacingHaveOneWinnerAndFreeTheSlotsOnce() throws Exception {
        Swiotlb tlb = pool();
        Object owner = new Object();
        CyclicBarrier start = new CyclicBarrier(2);
        AtomicInteger claimWins = new AtomicInteger();
        AtomicInteger releaseWins = new AtomicInteger();
        int rounds = 500;
        for (int round = 0; round < rounds; round++) {
            long handle = tlb.mapSingle(round * 64L, 3000, 0, 0, -1L, true);
            assertNotEquals(Swiotlb.NONE, handle, "round " + round);
            tlb.record(handle, owner, null, 0, 3000, 1);
            Thread claimer = new Thread(() -> {
                await(start);
                if (tlb.claim(handle)) {
                    claimWins.incrementAndGet();
                    tlb.release(handle); // the claimed unmap's release, as PrimitiveStreaming does after its copy
                }
            });
            claimer.start();
            await(start);
            if (tlb.claimAndRelease(handle)) {
                releaseWins.incrementAndGet();
            }
            claimer.join();
            assertEquals(round + 1, claimWins.get() + releaseWins.get(), "exactly one unmap wins each round");
            assertEquals(0, tlb.usedSlots(), "the slots are free again, once (a second release would throw)");
            assertFalse(tlb.claim(handle), "nothing is left to claim");
        }
    }

    @Test
    void theMapsAndUnmapsCopiesAreCountedUnderTheAreaLock() {
        Swiotlb tlb = pool();
        long handle = tlb.mapBounce(0x1000, 1000, 0, -1L, -1L, true, null);
        assertEquals(1000, tlb.stats().bytesToDevice(), "the map's copy is counted with its slots");
        tlb.releaseCopiedBack(handle, 600);
        assertEquals(600, tlb.stats().bytesFromDevice(), "the unmap's copy back is counted at its release");
        long failed = tlb.mapBounce(0x1000, 500, 0, -1L, -1L, true, null);
        tlb.releaseUncopied(failed, 500);
        SwiotlbStats stats = tlb.stats();
        assertEquals(1000, stats.bytesToDevice(), "a map that failed before its copy is not counted");
        assertEquals(0, stats.usedSlots());
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
