package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.DmaRange;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, finding 4: a device whose dma-ranges do not cover the platform's lowest frame. The question
 * {@code setDmaMask} asks is whether any memory the device can reach through its ranges lies within the
 * mask, which is what allocation can deliver; the lowest frame's translation failing says nothing about it.
 */
class PartialDmaRangeMaskTest {
    /** Memory at 0..32 MiB; the device sees only the upper 16 MiB, at DMA 0..16 MiB. */
    private static SimulatedPlatform platform() {
        return SimulatedPlatform.builder().region(0, 32 * MiB).bouncePool(SwiotlbConfig.none()).build();
    }

    private static DeviceProperties upperHalfOnly() {
        return DeviceProperties.simple("upper-half").withDmaRanges(List.of(new DmaRange(16 * MiB, 0, 16 * MiB)));
    }

    @Test
    void everyMaskThatReachesTheRangeIsAcceptedAndAllocationAgrees() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(upperHalfOnly());
            device.setMaskAndCoherent(DmaMask.BITS_64);
            assertEquals(DmaMask.BITS_64, device.dmaMask());
            // The device's first frame ends at DMA 2 MiB - 1, so a 21-bit mask reaches it.
            device.setMaskAndCoherent(DmaMask.bits(21));
            DmaBuffer buffer = device.allocCoherent(4096);
            assertTrue(Long.compareUnsigned(buffer.dmaAddress() + 4095, DmaMask.bits(21).value()) <= 0,
                    "allocated within the mask it accepted: " + Long.toHexString(buffer.dmaAddress()));
            buffer.close();
        }
    }

    @Test
    void aMaskBelowEveryReachableFrameIsStillRefused() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(upperHalfOnly());
            assertThrows(DmaMaskUnsupportedException.class, () -> device.setDmaMask(DmaMask.bits(20)));
            assertEquals(DmaMask.BITS_32, device.dmaMask(), "the refused mask was not set");
        }
    }

    @Test
    void aDeviceThatReachesNoHeldMemoryIsRefusedEveryMask() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("elsewhere")
                    .withDmaRanges(List.of(new DmaRange(1L << 40, 0, 16 * MiB))));
            DmaMaskUnsupportedException e = assertThrows(DmaMaskUnsupportedException.class,
                    () -> device.setDmaMask(DmaMask.BITS_64));
            assertTrue(e.getMessage().contains("dma-ranges"), e.getMessage());
        }
    }
}
