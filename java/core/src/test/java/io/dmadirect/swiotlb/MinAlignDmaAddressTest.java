package io.dmadirect.swiotlb;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, finding 7: {@code min_align_mask} is kept in the bounce buffer's DMA address, as
 * {@code swiotlb_search_pool_area()} compares {@code phys_to_dma_unencrypted(dev, pool->start)}'s slots
 * with the original address. With a dma-range offset that is not a multiple of the mask + 1, keeping the
 * bits in the physical address instead hands the device an address whose offset inside its page is wrong.
 */
class MinAlignDmaAddressTest {
    private static final long RANGE_OFFSET = 2 * KiB;
    private static final long MIN_ALIGN = 4 * KiB - 1;

    @Test
    void theBounceDmaAddressKeepsTheOriginalsBitsUnderMinAlignMask() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 32 * MiB).forceBounce(true).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nvme-like")
                    .withDmaRanges(List.of(new DmaRange(0, RANGE_OFFSET, 32 * MiB))));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            device.setMinAlignMask(MIN_ALIGN);
            SimulatedBusMaster engine = platform.busMaster(device, 64);
            DmaBuffer buffer = device.allocCoherent(64 * KiB);
            long bufferPhys = buffer.dmaAddress() - RANGE_OFFSET;
            for (int offset : new int[] {0, 0x234, 0x800, 0xa10, 0x1fff}) {
                ByteBuffer slice = buffer.cpuView().slice(offset, 3000);
                byte[] data = new byte[3000];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (byte) (i * 31 + offset);
                }
                slice.duplicate().put(data);
                DmaMapping mapping = device.map(slice, DmaDirection.TO_DEVICE);
                assertTrue(mapping.isBounced(), "swiotlb=force bounces");
                long origPhys = bufferPhys + offset;
                assertEquals(origPhys & MIN_ALIGN, mapping.dmaAddress() & MIN_ALIGN,
                        "offset " + Integer.toHexString(offset) + ": bounce DMA " + Long.toHexString(mapping.dmaAddress()));
                assertArrayEquals(data, engine.read(mapping.dmaAddress(), data.length), "the device reads the data");
                mapping.close();
            }
            buffer.close();
        }
    }
}
