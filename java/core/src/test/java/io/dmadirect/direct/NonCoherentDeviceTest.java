package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.Test;

/**
 * The non-coherent branches of {@code dma_direct_alloc()}: memory is prepared with a cache clean
 * ({@code arch_dma_prep_coherent}) through the cache-maintenance hook, and a caller that cannot block
 * is served from the atomic pool, whose memory was prepared in advance.
 */
class NonCoherentDeviceTest {

    @Test
    void coherentMemoryOfANonCoherentDeviceIsCleanedThroughTheHook() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64-dev").withCoherent(false));
            long callsBefore = platform.caches().cleanCalls();
            DmaBuffer buffer = device.allocCoherent(10_000);
            assertEquals(callsBefore + 1, platform.caches().cleanCalls(), "one arch_dma_prep_coherent per allocation");
            assertEquals(buffer.allocatedSize(), platform.caches().cleanedBytes(), "the whole allocation is cleaned");
            assertEquals(AllocationPath.PAGES, buffer.path());
            buffer.close();
        }
    }

    @Test
    void coherentDeviceNeedsNoCacheMaintenance() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("x86-dev"));
            device.allocCoherent(10_000).close();
            device.allocCoherent(4096, DmaAttr.ATOMIC).close();
            assertEquals(0, platform.caches().cleanCalls());
        }
    }

    @Test
    void atomicAllocationOfANonCoherentDeviceComesFromThePool() throws InterruptedException {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).build()) {
            long cleanedAtStart = platform.caches().cleanedBytes();
            assertTrue(cleanedAtStart > 0, "pool chunks are cleaned when the pools are filled");
            long poolBytesAtStart = poolBytes(platform);
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64-atomic").withCoherent(false));
            DmaBuffer buffer = device.allocCoherent(4096, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, buffer.path());
            // The allocation may start a background refill, which cleans the new chunk: wait for it and
            // count it, so that only the allocation itself is checked for cache work.
            platform.direct().atomicPools().awaitRefill();
            long grownBy = poolBytes(platform) - poolBytesAtStart;
            assertEquals(cleanedAtStart + grownBy, platform.caches().cleanedBytes(), "no cache work on the atomic path");
            assertEquals(0, buffer.cpuView().getLong(0));
            buffer.close();
        }
    }

    private static long poolBytes(SimulatedPlatform platform) {
        long total = 0;
        for (io.dmadirect.Zone zone : io.dmadirect.Zone.values()) {
            total += platform.direct().atomicPools().poolBytes(zone)[0];
        }
        return total;
    }
}
