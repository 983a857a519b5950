package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaRange;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code dma_direct_to_page()}: from any DMA address inside a live buffer back to that buffer. */
class ReverseLookupTest {

    @Test
    void everyAddressInsideALiveBufferFindsIt() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("lookup"));
            DmaBuffer small = device.allocCoherent(100);
            DmaBuffer large = device.allocCoherent(5 * MiB);
            for (DmaBuffer buffer : List.of(small, large)) {
                long start = buffer.dmaAddress();
                for (long addr : new long[] {start, start + buffer.size() / 2, start + buffer.allocatedSize() - 1}) {
                    assertSame(buffer, device.findBuffer(addr).orElseThrow(), "at 0x" + Long.toHexString(addr));
                }
                assertTrue(device.findBuffer(start + buffer.allocatedSize()).map(b -> b != buffer).orElse(true));
            }
            DmaDevice other = platform.attach(DeviceProperties.simple("other"));
            assertTrue(other.findBuffer(small.dmaAddress()).isEmpty(), "another device's buffer is not found");
            long freedAddress = small.dmaAddress();
            small.close();
            assertTrue(device.findBuffer(freedAddress).isEmpty(), "a freed buffer is not found");
            assertTrue(device.findBuffer(0x7fff_0000_0000L).isEmpty(), "an address outside memory finds nothing");
            large.close();
        }
    }

    @Test
    void lookupWorksThroughRangeOffsetsAndPools() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(2 * GiB, 32 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("offset").withCoherent(false)
                    .withDmaRanges(List.of(new DmaRange(2 * GiB, 0, GiB))));
            DmaBuffer pages = device.allocCoherent(4096);
            DmaBuffer pooled = device.allocCoherent(4096, DmaAttr.ATOMIC);
            assertTrue(pages.dmaAddress() < 32 * MiB, "the device sees the memory at the bottom");
            assertSame(pages, device.findBuffer(pages.dmaAddress() + 10).orElseThrow());
            assertSame(pooled, device.findBuffer(pooled.dmaAddress() + 4095).orElseThrow());
            assertEquals(io.dmadirect.AllocationPath.ATOMIC_POOL, pooled.path());
            pages.close();
            pooled.close();
            assertTrue(device.findBuffer(pooled.dmaAddress()).isEmpty());
        }
    }
}
