package io.dmadirect.pool;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.Zone;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The atomic pools of pool.c: per-zone, never blocking, refilled in the background, exhausted cleanly. */
class AtomicPoolTest {

    private static SimulatedPlatform platform(long initial, long max) {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(64 * MiB, 64 * MiB).region(1L << 32, 64 * MiB)
                .atomicPools(initial, max).build();
    }

    @Test
    void theScaledSizeIsTheKernels128KiBPerGiBHeldBetween128KiBAnd4MiB() {
        assertEquals(128 * KiB, AtomicPools.scaledBytes(0));
        assertEquals(128 * KiB, AtomicPools.scaledBytes(40 * MiB), "the fresh host's 40 MiB");
        assertEquals(128 * KiB, AtomicPools.scaledBytes(1L << 30));
        assertEquals(768 * KiB, AtomicPools.scaledBytes(6L << 30));
        assertEquals(4 * MiB, AtomicPools.scaledBytes(32L << 30));
        assertEquals(4 * MiB, AtomicPools.scaledBytes(1L << 40), "at most one top-order block");
        try (SimulatedPlatform platform = platform(AtomicPools.SCALED, 4 * MiB)) {
            for (Zone zone : Zone.values()) {
                assertEquals(128 * KiB, platform.direct().atomicPools().poolBytes(zone)[0], zone + " pool size");
            }
        }
    }

    @Test
    void eachZoneWithMemoryHasAPool() {
        try (SimulatedPlatform platform = platform(256 * KiB, MiB)) {
            for (Zone zone : Zone.values()) {
                assertEquals(256 * KiB, platform.direct().atomicPools().poolBytes(zone)[0], zone + " pool size");
            }
        }
    }

    @Test
    void poolFollowsTheOptimalZoneAndCoherentOk() {
        try (SimulatedPlatform platform = platform(256 * KiB, MiB)) {
            DmaDevice low = platform.attach(DeviceProperties.simple("24bit").withCoherent(false));
            low.setMaskAndCoherent(DmaMask.bits(24));
            DmaBuffer buffer = low.allocCoherent(8 * KiB, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, buffer.path());
            assertEquals(Zone.DMA, buffer.zone());
            assertTrue(buffer.dmaAddress() + buffer.size() - 1 <= 0xff_ffffL);
            buffer.close();

            DmaDevice wide = platform.attach(DeviceProperties.simple("64bit").withCoherent(false));
            wide.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer high = wide.allocCoherent(8 * KiB, DmaAttr.ATOMIC);
            assertEquals(Zone.NORMAL, high.zone(), "dma_guess_pool starts at the kernel pool");
            high.close();
        }
    }

    @Test
    void poolGrowsInTheBackgroundWhenItRunsLow() throws Exception {
        try (SimulatedPlatform platform = platform(256 * KiB, MiB)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("grow").withCoherent(false));
            AtomicPools pools = platform.direct().atomicPools();
            DmaBuffer first = device.allocCoherent(64 * KiB, DmaAttr.ATOMIC);
            pools.awaitRefill();
            assertEquals(512 * KiB, pools.poolBytes(first.zone())[0], "the pool doubled (atomic_pool_resize)");
            first.close();
        }
    }

    @Test
    void exhaustionGivesAClearErrorAndNeverBlocks() throws Exception {
        try (SimulatedPlatform platform = platform(256 * KiB, 256 * KiB)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("exhaust").withCoherent(false));
            device.setMaskAndCoherent(DmaMask.bits(24));
            List<DmaBuffer> taken = new ArrayList<>();
            Set<Long> addresses = new HashSet<>();
            for (int i = 0; i < 64; i++) {
                DmaBuffer buffer = device.allocCoherent(4 * KiB, DmaAttr.ATOMIC);
                assertTrue(addresses.add(buffer.dmaAddress()), "no address handed out twice");
                taken.add(buffer);
            }
            DmaAllocationException e = assertThrows(DmaAllocationException.class,
                    () -> device.allocCoherent(4 * KiB, DmaAttr.ATOMIC));
            assertTrue(e.getMessage().contains("cannot block"), e.getMessage());
            taken.forEach(DmaBuffer::close);
            device.allocCoherent(4 * KiB, DmaAttr.ATOMIC).close();
        }
    }

    @Test
    void concurrentAtomicAllocationsNeverOverlap() throws Exception {
        try (SimulatedPlatform platform = platform(MiB, 4 * MiB)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("race").withCoherent(false));
            Set<Long> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
            List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread thread = new Thread(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        DmaBuffer buffer;
                        try {
                            buffer = device.allocCoherent(4 * KiB, DmaAttr.ATOMIC);
                        } catch (DmaAllocationException full) {
                            continue;
                        }
                        if (!live.add(buffer.dmaAddress())) {
                            problems.add("handed out twice: " + buffer);
                        }
                        live.remove(buffer.dmaAddress());
                        buffer.close();
                    }
                });
                thread.start();
                threads.add(thread);
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertTrue(problems.isEmpty(), problems.toString());
        }
    }

    @Test
    void runsOfFreeBitsAreFoundExactly() {
        assertEquals(0b1L, PoolChunk.runsOfFree(0b1L, 1));
        assertEquals(0b0001L, PoolChunk.runsOfFree(0b0011L, 2));
        assertEquals(0L, PoolChunk.runsOfFree(0b0101L, 2));
        assertEquals(0b0010L, PoolChunk.runsOfFree(0b1110L, 3));
        assertEquals(1L, PoolChunk.runsOfFree(-1L, 64));
        assertEquals(0L, PoolChunk.runsOfFree(-1L >>> 1, 64));
        assertEquals(0b11L, PoolChunk.runsOfFree(-1L, 63));
    }
}
