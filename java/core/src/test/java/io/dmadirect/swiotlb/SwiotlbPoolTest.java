package io.dmadirect.swiotlb;

import io.dmadirect.spi.SwiotlbConfig;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.MemoryStats;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.sim.SimulatedEncryption;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.MemoryEncryption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The slot allocator itself, over a page allocator of simulated memory: placement, free list, alignment, growth. */
class SwiotlbPoolTest {
    private SimulatedMemory memory;
    private PageAllocator pages;

    private Swiotlb pool(List<long[]> regions, SwiotlbConfig config, MemoryEncryption encryption, boolean share) {
        memory = new SimulatedMemory(2 * MiB, regions, -1L);
        pages = PageAllocators.standard(memory, ZoneLayout.DEFAULT);
        return Swiotlb.create(config, pages, memory.frameSize(), encryption, share);
    }

    private Swiotlb pool(SwiotlbConfig config) {
        return pool(List.of(new long[] {0, 16 * MiB}, new long[] {16 * MiB, 48 * MiB}, new long[] {4L << 30, 64 * MiB}),
                config, MemoryEncryption.NONE, false);
    }

    @AfterEach
    void tearDown() {
        if (pages != null) {
            pages.close();
            memory.close();
        }
    }

    /**
     * {@code swiotlb_find_pool()} as the unmap uses it ({@link Swiotlb#mappedOrOutside}): the map's own address (the
     * usual unmap, found without the slot's head), any byte inside the mapping, a byte past its end, the same
     * addresses once it is released, and an address outside every pool; with and without a kept offset
     * ({@code min_align_mask}) and padding slots.
     */
    @Test
    void unmapLookUpFindsTheMappingFromAnyOfItsAddressesAndNothingElse() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(8 * MiB));
        long[][] rows = { // origAddr, size, minAlignMask, allocAlignMask (a padding slot in front: the fourth row)
            {0x1000, 4096, 0, 0}, {0x1234, 1000, 0xfff, 0}, {0x5a30, 300, 0x7ff, 0}, {0x1c40, 6000, 0xfff, 0xfff},
            {0x3f00, 200, 0x1fff, 0}, {0, 1, 0, 0},
        };
        for (long[] row : rows) {
            long size = row[1];
            long handle = tlb.mapSingle(row[0], size, row[2], row[3], -1L, false);
            assertNotEquals(Swiotlb.NONE, handle, "map of row " + java.util.Arrays.toString(row));
            tlb.record(handle, this, null, row[0], size, 1);
            long at = tlb.physAddress(handle);
            assertEquals(row[0] & row[2], at & row[2], "min_align_mask's bits kept");
            assertEquals(row[3] == 0 ? 0 : 1, tlb.padSlots(handle), "padding slots");
            String what = " of " + java.util.Arrays.toString(row) + " at " + Long.toHexString(at);
            assertEquals(handle, tlb.mappedOrOutside(at), "the map's address" + what);
            assertEquals(handle, tlb.mappedOrOutside(at + size - 1), "its last byte" + what);
            assertEquals(handle, tlb.mappedOrOutside(at + size / 2), "a byte inside" + what);
            assertEquals(Swiotlb.NONE, tlb.mappedOrOutside(at + size), "the byte past its end" + what);
            assertTrue(tlb.claimAndRelease(handle), "release" + what);
            assertEquals(Swiotlb.NONE, tlb.mappedOrOutside(at), "the map's address once released" + what);
            assertEquals(Swiotlb.NONE, tlb.mappedOrOutside(at + size - 1), "its last byte once released" + what);
        }
        assertEquals(Swiotlb.OUTSIDE, tlb.mappedOrOutside(tlb.firstPhysAddress() - 1));
        assertEquals(Swiotlb.OUTSIDE, tlb.mappedOrOutside(tlb.lastPhysAddress() + 1));
        assertEquals(0, tlb.stats().usedSlots());
        tlb.close();
    }

    @Test
    void takenBelow4GiBAndOutOfZoneDmaFirst() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(8 * MiB));
        assertTrue(tlb.firstPhysAddress() >= 16 * MiB && tlb.lastPhysAddress() < 64 * MiB,
                "ZONE_DMA32 below 4 GiB: " + Long.toHexString(tlb.firstPhysAddress()));
        assertEquals(8 * MiB / Swiotlb.SLOT_SIZE, tlb.stats().totalSlots());
        tlb.close();
    }

    @Test
    void fallsBackToHighMemoryWhenThereIsNoLowMemory() {
        Swiotlb tlb = pool(List.of(new long[] {4L << 30, 32 * MiB}), SwiotlbConfig.defaults().withBytes(4 * MiB),
                MemoryEncryption.NONE, false);
        assertTrue(tlb.firstPhysAddress() >= 4L << 30);
        tlb.close();
    }

    @Test
    void halvesItsSizeWhenMemoryIsShort() {
        Swiotlb tlb = pool(List.of(new long[] {0, 8 * MiB}), SwiotlbConfig.defaults(), MemoryEncryption.NONE, false);
        long bytes = tlb.stats().totalSlots() * Swiotlb.SLOT_SIZE;
        assertTrue(bytes < 64 * MiB && bytes >= 2 * MiB, "got " + bytes);
        tlb.close();
    }

    @Test
    void areasHoldWholeSegmentsAndArePowersOfTwo() {
        assertEquals(4, SlotPool.areasFor(4, 16));
        assertEquals(4, SlotPool.areasFor(5, 16));
        assertEquals(2, SlotPool.areasFor(8, 6), "6 segments split into 2 areas of 3");
        assertEquals(1, SlotPool.areasFor(8, 1));
        assertEquals(8, pool(SwiotlbConfig.defaults().withBytes(4 * MiB).withAreas(8)).areas());
    }

    @Test
    void slotsMergeBackIntoWholeSegments() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(2 * MiB).withAreas(1));
        Random random = new Random(5);
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            if (!live.isEmpty() && (random.nextBoolean() || live.size() > 60)) {
                tlb.release(live.remove(random.nextInt(live.size())));
            } else {
                long h = tlb.mapSingle(random.nextInt(1 << 20), 1 + random.nextInt(20_000), random.nextBoolean() ? 4095 : 0, 0,
                        -1L, false);
                if (h != Swiotlb.NONE) {
                    live.add(h);
                }
            }
        }
        live.forEach(tlb::release);
        assertEquals(0, tlb.usedSlots());
        assertEquals(Swiotlb.SEGMENT_SLOTS, tlb.stats().largestFreeRun());
        List<Long> segments = new ArrayList<>();
        long h;
        while ((h = tlb.mapSingle(0, Swiotlb.SEGMENT_BYTES, 0, 0, -1L, false)) != Swiotlb.NONE) {
            segments.add(h);
        }
        assertEquals(8, segments.size(), "all 8 segments of 2 MiB whole again");
        segments.forEach(tlb::release);
    }

    @Test
    void minAlignMaskKeepsTheLowBitsAndAllocAlignMaskPlacesTheStart() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(2 * MiB));
        for (long orig : new long[] {0x1234, 0x7ff, 0x800, 0xfff, 0x10_0a00}) {
            long h = tlb.mapSingle(orig, 3000, 4095, 0, -1L, false);
            assertEquals(orig & 4095, tlb.physAddress(h) & 4095, "orig 0x" + Long.toHexString(orig));
            assertEquals(tlb.physAddress(h) - tlb.cpuAddress(h), tlb.physAddress(h & ~2047L) - tlb.cpuAddress(h & ~2047L));
            tlb.release(h);
        }
        long h = tlb.mapSingle(0x5123, 100, 0, 0xffff, -1L, false);
        assertEquals(0, tlb.physAddress(h) & 0xffff,
                "alloc_align_mask 64 KiB: zero bits under the mask, not the original's 0x5000 (swiotlb_search_pool_area)");
        assertEquals(32, Swiotlb.runSlots(h), "the run is rounded up to 64 KiB (swiotlb_tbl_map_single: ALIGN(size, mask + 1))");
        tlb.release(h);
        for (long orig : new long[] {0, 0x800, 0x1800}) {
            long page = tlb.mapSingle(orig, 4096, 0, 0, -1L, false);
            assertEquals(0, tlb.physAddress(page) & 0xfff, "orig 0x" + Long.toHexString(orig)
                    + ": a page or more is page-aligned when neither mask is set (6.9: reinstate page-alignment)");
            tlb.release(page);
        }
        assertEquals(Swiotlb.SEGMENT_BYTES - 4096, Swiotlb.maxMappingSize(4095));
        assertEquals(Swiotlb.SEGMENT_BYTES - 2048, Swiotlb.maxMappingSize(7));
        assertEquals(Swiotlb.NONE, tlb.mapSingle(0x10, Swiotlb.SEGMENT_BYTES, 4095, 0, -1L, false),
                "a full segment plus a kept offset does not fit");
    }

    @Test
    void releaseOfFreeSlotsIsCaught() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(2 * MiB));
        long h = tlb.mapSingle(0, 5000, 0, 0, -1L, false);
        tlb.release(h);
        assertThrows(IllegalStateException.class, () -> tlb.release(h));
        assertEquals(0, tlb.usedSlots());
    }

    @Test
    void extraPoolsGrowBelowTheLimitUpToTheirMaximum() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(2 * MiB).withDynamicMax(4 * MiB));
        long lowLimit = (16 * MiB) - 1;
        assertTrue(tlb.lastPhysAddress() > lowLimit, "the default pool is beyond a 24-bit device");
        assertEquals(Swiotlb.NONE, tlb.mapSingle(0, 4096, 0, 0, lowLimit, false), "no growth when the caller cannot block");
        List<Long> handles = new ArrayList<>();
        long h;
        while ((h = tlb.mapSingle(0, Swiotlb.SEGMENT_BYTES, 0, 0, lowLimit, true)) != Swiotlb.NONE) {
            assertTrue(tlb.physAddress(h) + Swiotlb.SEGMENT_BYTES - 1 <= lowLimit, "extra pool below the limit");
            handles.add(h);
        }
        assertEquals(16, handles.size(), "4 MiB of extra pools = 16 segments, then the maximum stops growth");
        assertEquals(3, tlb.stats().pools());
        handles.forEach(tlb::release);
        assertEquals(0, tlb.usedSlots());
    }

    @Test
    void encryptedMemoryIsSharedWhileThePoolLivesAndPrivateAfter() {
        SimulatedEncryption encryption = new SimulatedEncryption(0, true);
        Swiotlb tlb = pool(List.of(new long[] {0, 32 * MiB}), SwiotlbConfig.defaults().withBytes(4 * MiB), encryption, true);
        assertEquals(4 * MiB, encryption.sharedBytes());
        assertTrue(encryption.isShared(tlb.firstPhysAddress()));
        MemoryStats inUse = pages.stats();
        tlb.close();
        assertEquals(0, encryption.sharedBytes());
        assertNotEquals(inUse, pages.stats(), "the memory went back to the allocator");
    }

    /**
     * The unmap's claim and the claim folded into a release ({@link Swiotlb#claimAndRelease}) both run under the
     * area lock: two unmaps of one mapping racing, one through each, have exactly one winner, and the slots are
     * freed once.
     */
    @Test
    void aClaimAndAClaimingReleaseRacingHaveOneWinnerAndFreeTheSlotsOnce() throws Exception {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(2 * MiB));
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

    /** The statistics' byte counts kept under the area lock: a map counted once, a failed map uncounted. */
    @Test
    void theMapsAndUnmapsCopiesAreCountedUnderTheAreaLock() {
        Swiotlb tlb = pool(SwiotlbConfig.defaults().withBytes(2 * MiB));
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
