package io.dmadirect.streaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The device's DMA limits as {@code include/linux/dma-mapping.h} gives them ({@code dma_get_seg_boundary},
 * {@code dma_get_max_seg_size}, {@code dma_opt_mapping_size}, {@code dma_addressing_limited},
 * {@code dma_need_sync}), and scatter-gather mappings (object and primitive) held to the segment limits.
 */
class DeviceLimitsTest {

    @Test
    void defaultsAreWhatPciDeviceAddLeaves() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("pci"));
            assertEquals(0xffff_ffffL, device.segBoundary(), "dma_set_seg_boundary(dev, 0xffffffff)");
            assertEquals(65536, device.maxSegSize(), "dma_set_max_seg_size(dev, 65536)");
            assertEquals(64, device.cacheAlignment(), "dma_get_cache_alignment: the platform's cache line");
        }
    }

    @Test
    void theSettersValidateAndTheGettersAnswer() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("set"));
            long[][] boundaries = {{0xffff, 1}, {-1L, 1}, {0xfff, 1}, {0x1000, 0}, {0xfffe, 0}, {0x12345, 0}};
            for (long[] row : boundaries) {
                if (row[1] == 1) {
                    device.setSegBoundary(row[0]);
                    assertEquals(row[0], device.segBoundary());
                } else {
                    long before = device.segBoundary();
                    assertThrows(IllegalArgumentException.class, () -> device.setSegBoundary(row[0]),
                            "not 2^n - 1: " + Long.toHexString(row[0]));
                    assertEquals(before, device.segBoundary(), "unchanged after a refusal");
                }
            }
            device.setMaxSegSize(4096);
            assertEquals(4096, device.maxSegSize());
            assertThrows(IllegalArgumentException.class, () -> device.setMaxSegSize(0));
            assertThrows(IllegalArgumentException.class, () -> device.setMaxSegSize(1L << 32));
            assertEquals(4096, device.maxSegSize());
        }
    }

    @Test
    void optMappingSizeAndAddressingLimitedFollowTheMask() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("mask"));
            assertTrue(device.addressingLimited(), "32 bits and memory at 8 GiB");
            assertEquals(Swiotlb.SEGMENT_BYTES, device.optMappingSize(), "a limited device: swiotlb's maximum");
            assertEquals(device.maxMappingSize(), device.optMappingSize());
            device.setMaskAndCoherent(DmaMask.BITS_64);
            assertFalse(device.addressingLimited());
            assertEquals(Long.MAX_VALUE, device.optMappingSize(), "dma-direct has no opt_mapping_size: unlimited");
        }
    }

    @Test
    void dmaRangesThatLeaveMemoryUncoveredMakeTheDeviceLimitedWhateverItsMask() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            long MiB = 1 << 20;
            DmaDevice partial = platform.attach(DeviceProperties.simple("partial")
                    .withDmaRanges(List.of(new DmaRange(0, 0, 64 * MiB))));
            partial.setDmaMask(DmaMask.BITS_64);
            assertTrue(partial.addressingLimited(), "dma_direct_all_ram_mapped: the memory at 8 GiB is not covered");
            DmaDevice whole = platform.attach(DeviceProperties.simple("whole")
                    .withDmaRanges(List.of(new DmaRange(0, 0, 32 * MiB), new DmaRange(32 * MiB, 32 * MiB, 32 * MiB),
                            new DmaRange(8L << 30, 8L << 30, 64 * MiB))));
            whole.setDmaMask(DmaMask.BITS_64);
            assertFalse(whole.addressingLimited(), "two adjacent ranges and one high cover all memory");
        }
    }

    @Test
    void needSyncIsFalseOnlyForACoherentDevicesDirectMapping() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice coherent = platform.attach(DeviceProperties.simple("coherent"));
            DmaDevice nonCoherent = platform.attach(DeviceProperties.simple("non-coherent").withCoherent(false));
            DmaBuffer memory = coherent.allocCoherent(4096);
            long direct = coherent.mapSingle(memory.cpuView(), 0, 4096, DmaDirection.TO_DEVICE, 0);
            long bounced = coherent.mapSingle(ByteBuffer.allocate(64), 0, 64, DmaDirection.TO_DEVICE, 0);
            assertFalse(coherent.needSync(direct));
            assertTrue(coherent.needSync(bounced));
            assertTrue(nonCoherent.needSync(direct));
            coherent.unmapSingle(bounced, 64, DmaDirection.TO_DEVICE, 0);
        }
    }

    @Test
    void aSegmentLongerThanTheMaximumIsRefusedAndNothingStaysMapped() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sg"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer memory = device.allocCoherent(256 * 1024);
            ByteBuffer small = ByteBuffer.allocate(1000);
            ByteBuffer big = memory.cpuView().limit(65537);
            DmaMappingException object = assertThrows(DmaMappingException.class,
                    () -> device.mapSg(List.of(small, big), DmaDirection.TO_DEVICE));
            assertTrue(object.getMessage().contains("segment 1 of 2") && object.getMessage().contains("maximum segment size"),
                    object.getMessage());
            long[] out = new long[2];
            DmaMappingException primitive = assertThrows(DmaMappingException.class,
                    () -> device.mapSg(new ByteBuffer[] {small, big}, 2, DmaDirection.TO_DEVICE, 0, out));
            assertTrue(primitive.getMessage().contains("segment 1 of 2"), primitive.getMessage());
            assertEquals(0, platform.direct().swiotlb().usedSlots(), "the bounced first segment was unmapped");

            device.setMaxSegSize(128 * 1024);
            ScatterList list = device.mapSg(List.of(small, big), DmaDirection.TO_DEVICE);
            assertEquals(2, list.count(), "a raised limit lets it through");
            list.close();
        }
    }

    @Test
    void aDirectSegmentCrossingTheBoundaryIsRefusedAndABouncedOneIsPlacedInside() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("boundary"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer memory = device.allocCoherent(16384);
            device.setSegBoundary(0xfff);
            assertEquals(0, memory.dmaAddress() & 0xfff, "the test needs a page-aligned buffer");
            ByteBuffer crossing = memory.cpuView().position(4000).limit(4200);
            long[] out = new long[1];
            DmaMappingException primitive = assertThrows(DmaMappingException.class,
                    () -> device.mapSg(new ByteBuffer[] {crossing}, 1, DmaDirection.TO_DEVICE, 0, out));
            assertTrue(primitive.getMessage().contains("segment boundary"), primitive.getMessage());
            assertThrows(DmaMappingException.class, () -> device.mapSg(List.of(crossing), DmaDirection.TO_DEVICE));
            ByteBuffer inside = memory.cpuView().position(4096).limit(8192);
            assertEquals(1, device.mapSg(new ByteBuffer[] {inside}, 1, DmaDirection.TO_DEVICE, 0, out));
            device.unmapSg(out, new int[] {4096}, 1, DmaDirection.TO_DEVICE, 0);

            ByteBuffer heap = ByteBuffer.allocate(4000).position(1000);
            assertEquals(1, device.mapSg(new ByteBuffer[] {heap}, 1, DmaDirection.BIDIRECTIONAL, 0, out));
            assertEquals(out[0] >>> 12, (out[0] + 2999) >>> 12, "swiotlb placed the bounce inside one boundary");
            device.syncSgForCpu(out, new int[] {3000}, 1, DmaDirection.BIDIRECTIONAL);
            device.syncSgForDevice(out, new int[] {3000}, 1, DmaDirection.BIDIRECTIONAL);
            device.unmapSg(out, new int[] {3000}, 1, DmaDirection.BIDIRECTIONAL, 0);
            assertEquals(0, platform.direct().swiotlb().usedSlots());
        }
    }

    @Test
    void primitiveScatterListsCheckTheirArrays() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arrays"));
            ByteBuffer[] one = {ByteBuffer.allocate(64)};
            assertThrows(IllegalArgumentException.class, () -> device.mapSg(one, 0, DmaDirection.TO_DEVICE, 0, new long[1]));
            assertThrows(IllegalArgumentException.class, () -> device.mapSg(one, 2, DmaDirection.TO_DEVICE, 0, new long[2]));
            assertThrows(IllegalArgumentException.class, () -> device.mapSg(one, 1, DmaDirection.TO_DEVICE, 0, new long[0]));
            assertThrows(IllegalArgumentException.class, () -> device.mapSg(one, 1, DmaDirection.NONE, 0, new long[1]));
            assertEquals(0, platform.direct().swiotlb().usedSlots());
        }
    }
}
