package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@code dma_max_mapping_size()} is advice. In the kernel, {@code dma_map_page_attrs()} never compares the size
 * with it: {@code dma_direct_map_phys()} maps memory the device reaches ({@code dma_capable()}) directly at any
 * size, and only {@code swiotlb_map()} is bounded, by {@code swiotlb_max_mapping_size()} (one segment of 128 slots,
 * less {@code min_align_mask} rounded up to a slot).
 */
class StreamingMaxMappingSizeTest {
    private static final int SEGMENT = (int) Swiotlb.SEGMENT_BYTES;

    /** The rig's case from issue #17: 1 MiB for a 24-bit device, in memory it reaches. */
    @Test
    void aReachableMappingLargerThanTheAdviceIsDirect() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("isa-24"));
            device.setMaskAndCoherent(DmaMask.bits(24));
            assertEquals(Swiotlb.SEGMENT_BYTES, device.maxMappingSize(),
                    "dma_direct_max_mapping_size(): addressing-limited, so the advice is the pool's limit");
            DmaBuffer below16M = device.allocCoherent(MiB);
            DmaMapping mapping = device.map(below16M.cpuView(), DmaDirection.FROM_DEVICE);
            assertFalse(mapping.isBounced(), "dma_capable(): the device reaches it, so it maps directly");
            assertEquals(below16M.dmaAddress(), mapping.dmaAddress());
            assertEquals(MiB, mapping.size());
            mapping.close();
            below16M.close();
        }
    }

    @Test
    void aBounceLargerThanThePoolsLimitFailsClearly() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("pci-32"));
            assertEquals(Long.MAX_VALUE, device.maxMappingSize(), "32 bits cover this machine: no advice");
            // Page-aligned: today's Swiotlb keeps the original's bits under the page mask for a mapping of a page or
            // more (issue #17 item 4, worked on in wt-k-swiotlb), so an unaligned 256 KiB could need a 129th slot.
            ByteBuffer notDmaMemory = ByteBuffer.allocateDirect((int) MiB + 4096).alignedSlice(4096).limit((int) MiB);
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> device.map(notDmaMemory, DmaDirection.TO_DEVICE));
            assertTrue(e.getMessage().contains("at most 256 KiB") && e.getMessage().contains("swiotlb_max_mapping_size")
                    && e.getMessage().contains("Split"), e.getMessage());
            // At the limit, the bounce succeeds.
            device.map(notDmaMemory.limit(SEGMENT), DmaDirection.TO_DEVICE).close();
            // min_align_mask takes its slots off the limit (swiotlb_max_mapping_size).
            device.setMinAlignMask(4095);
            assertThrows(DmaMappingException.class, () -> device.map(notDmaMemory.limit(SEGMENT),
                    DmaDirection.TO_DEVICE));
        }
    }

    @Test
    void aForcedBounceDeviceIsBoundedForEveryMapping() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0)
                .forceBounce(true).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("forced"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer buffer = device.allocCoherent(MiB);
            assertThrows(DmaMappingException.class, () -> device.map(buffer.cpuView(), DmaDirection.TO_DEVICE),
                    "is_swiotlb_force_bounce(): even reachable memory bounces, so the pool's limit applies");
            buffer.close();
        }
    }
}
