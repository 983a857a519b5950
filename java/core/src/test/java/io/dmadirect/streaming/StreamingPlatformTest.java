package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.RecordingCaches;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import io.dmadirect.spi.SwiotlbConfig;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The platform options and device kinds around streaming DMA: forced bounce, encryption, non-coherent caches, restricted pools, scatter lists. */
class StreamingPlatformTest {
    private static final byte[] DATA = "streaming dma over swiotlb".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static SimulatedPlatform.Builder lowMachine() {
        return SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0);
    }

    @Test
    void swiotlbForceBouncesEvenReachableDmaMemory() {
        try (SimulatedPlatform platform = lowMachine().forceBounce(true).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("forced"));
            device.setDmaMask(DmaMask.BITS_64);
            DmaBuffer coherent = device.allocCoherent(4096);
            DmaMapping mapping = device.map(coherent.cpuView(), DmaDirection.TO_DEVICE);
            assertTrue(mapping.isBounced());
            assertNotEquals(coherent.dmaAddress(), mapping.dmaAddress());
            assertEquals(Swiotlb.SEGMENT_BYTES, device.maxMappingSize(), "a forced-bounce device is limited to the pool");
            mapping.close();
            coherent.close();
        }
    }

    @Test
    void withoutForceTheSameMemoryIsDirectAndCostsNoSlot() {
        try (SimulatedPlatform platform = lowMachine().build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("plain"));
            DmaBuffer coherent = device.allocCoherent(4096);
            DmaMapping mapping = device.map(coherent.cpuView().position(100), DmaDirection.TO_DEVICE);
            assertFalse(mapping.isBounced());
            assertEquals(coherent.dmaAddress() + 100, mapping.dmaAddress(), "the buffer's position is where the mapping starts");
            assertEquals(3996, mapping.size());
            assertEquals(0, platform.direct().swiotlb().usedSlots());
            mapping.close();
            coherent.close();
        }
    }

    @Test
    void aConfidentialGuestBouncesThroughSharedMemory() {
        try (SimulatedPlatform platform = lowMachine().confidentialGuest(true).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("tdx-nvme"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            assertTrue(device.forcedUnencrypted());
            ByteBuffer buffer = ByteBuffer.allocateDirect(DATA.length).put(DATA).flip();
            DmaMapping mapping = device.map(buffer, DmaDirection.BIDIRECTIONAL);
            assertTrue(mapping.isBounced());
            assertTrue(platform.encryption().isShared(mapping.dmaAddress()), "bounce memory is shared with the host");
            SimulatedBusMaster engine = platform.busMaster(device, 64);
            assertArrayEquals(DATA, engine.read(mapping.dmaAddress(), DATA.length), "the device reads plaintext");
            byte[] reply = new byte[DATA.length];
            java.util.Arrays.fill(reply, (byte) 'x');
            engine.write(mapping.dmaAddress(), reply);
            mapping.close();
            byte[] seen = new byte[DATA.length];
            buffer.get(0, seen);
            assertArrayEquals(reply, seen);
        }
    }

    @Test
    void aNonCoherentDeviceCleansAndInvalidatesByDirection() {
        try (SimulatedPlatform platform = lowMachine().build()) {
            RecordingCaches caches = platform.caches();
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
            DmaBuffer coherent = device.allocCoherent(8192);
            long clean = caches.cleanCalls();
            long inval = caches.invalidateCalls();

            DmaMapping out = device.map(coherent.cpuView().limit(4096), DmaDirection.TO_DEVICE);
            assertEquals(clean + 1, caches.cleanCalls(), "TO_DEVICE map cleans");
            assertEquals(inval, caches.invalidateCalls());
            out.close();
            assertEquals(inval, caches.invalidateCalls(), "TO_DEVICE unmap needs no invalidate");

            DmaMapping in = device.map(coherent.cpuView().position(4096), DmaDirection.FROM_DEVICE);
            assertEquals(inval + 1, caches.invalidateCalls(), "FROM_DEVICE map invalidates");
            in.syncForCpu(0, 100);
            assertEquals(inval + 2, caches.invalidateCalls(), "syncForCpu invalidates");
            assertEquals(inval + 2, caches.invalidatedBytes() > 0 ? caches.invalidateCalls() : -1);
            in.close();
            assertEquals(inval + 3, caches.invalidateCalls(), "unmap invalidates");

            long cleanBefore = caches.cleanCalls();
            DmaMapping skip = device.map(coherent.cpuView(), DmaDirection.TO_DEVICE, DmaAttr.SKIP_CPU_SYNC);
            skip.close();
            assertEquals(cleanBefore, caches.cleanCalls(), "SKIP_CPU_SYNC skips cache work");
            coherent.close();
        }
        try (SimulatedPlatform platform = lowMachine().build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("x86"));
            device.map(new byte[64], 0, 64, DmaDirection.BIDIRECTIONAL).close();
            assertEquals(0, platform.caches().cleanCalls() + platform.caches().invalidateCalls(), "coherent devices skip it");
        }
    }

    @Test
    void aRestrictedDeviceAllocatesCoherentMemoryFromTheBouncePool() {
        try (SimulatedPlatform platform = lowMachine().build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted").withRestrictedPool(true));
            Swiotlb tlb = platform.direct().swiotlb();
            DmaBuffer buffer = device.allocCoherent(10_000);
            assertEquals(AllocationPath.SWIOTLB, buffer.path());
            assertTrue(tlb.contains(buffer.dmaAddress()));
            assertEquals(0, buffer.dmaAddress() & 4095, "page-aligned, as swiotlb_alloc gives whole pages");
            assertEquals(3, tlb.usedSlots() / 2, "10 000 bytes round to 3 pages = 6 slots");
            assertSame(buffer, device.findBuffer(buffer.dmaAddress() + 5000).orElseThrow());
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            engine.write(buffer.dmaAddress(), DATA);
            byte[] seen = new byte[DATA.length];
            buffer.cpuView().get(seen);
            assertArrayEquals(DATA, seen);
            DmaMapping mapping = device.map(buffer.cpuView(), DmaDirection.TO_DEVICE);
            assertTrue(mapping.isBounced(), "a restricted device bounces every streaming mapping");
            mapping.close();
            buffer.close();
            assertEquals(0, tlb.usedSlots(), "freed back to the pool (swiotlb_free)");
            assertThrows(DmaUsageException.class, buffer::close);
            DmaBuffer left = device.allocCoherent(4096);
            device.close();
            assertTrue(left.isFreed());
            assertEquals(0, tlb.usedSlots(), "device close frees pool memory it left");
        }
    }

    @Test
    void scatterListMapsEachBufferAndUnmapsTogether() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).region(4L << 30, 64 * MiB)
                .atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sg"));
            device.setDmaMask(DmaMask.BITS_32);
            device.setCoherentMask(DmaMask.BITS_32);
            DmaBuffer low = device.allocCoherent(8192);
            device.setCoherentMask(DmaMask.BITS_64);
            DmaBuffer high = device.allocCoherent(8192);
            assertTrue(high.dmaAddress() > 0xffff_ffffL);
            ByteBuffer offHeap = ByteBuffer.allocateDirect(3000);
            ScatterList sg = device.mapSg(List.of(low.cpuView(), high.cpuView(), offHeap), DmaDirection.FROM_DEVICE);
            assertEquals(3, sg.count());
            assertEquals(8192 + 8192 + 3000, sg.totalSize());
            assertFalse(sg.segment(0).isBounced());
            assertTrue(sg.segment(1).isBounced(), "beyond the 32-bit mask");
            assertTrue(sg.segment(2).isBounced(), "not DMA memory");
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            for (DmaMapping segment : sg.segments()) {
                engine.write(segment.dmaAddress() + 10, DATA);
            }
            sg.syncForCpu();
            byte[] seen = new byte[DATA.length];
            high.cpuView().get(10, seen);
            assertArrayEquals(DATA, seen);
            offHeap.get(10, seen);
            assertArrayEquals(DATA, seen);
            sg.close();
            assertTrue(sg.segments().stream().allMatch(DmaMapping::isUnmapped));
            assertThrows(DmaUsageException.class, sg::close);
            assertEquals(0, platform.direct().swiotlb().usedSlots());

            // A failing segment unmaps the ones before it, and the error names it.
            long used = platform.direct().swiotlb().usedSlots();
            DmaMappingException e = assertThrows(DmaMappingException.class, () -> device.mapSg(
                    List.of(ByteBuffer.allocateDirect(100), ByteBuffer.allocateDirect(300_000)), DmaDirection.TO_DEVICE));
            assertTrue(e.getMessage().contains("segment 1 of 2"), e.getMessage());
            assertEquals(used, platform.direct().swiotlb().usedSlots());
        }
    }

    @Test
    void findMappingLocatesABouncedMappingByAnyAddressInIt() {
        try (SimulatedPlatform platform = lowMachine().build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("lookup"));
            DmaDevice other = platform.attach(DeviceProperties.simple("lookup-other"));
            DmaMapping mapping = device.map(new byte[10_000], 0, 10_000, DmaDirection.TO_DEVICE);
            assertSame(mapping, device.findMapping(mapping.dmaAddress()).orElseThrow());
            assertSame(mapping, device.findMapping(mapping.dmaAddress() + 9_999).orElseThrow());
            assertTrue(device.findMapping(mapping.dmaAddress() + 10_000).isEmpty());
            assertTrue(other.findMapping(mapping.dmaAddress()).isEmpty(), "another device's mapping is not found");
            mapping.close();
            assertTrue(device.findMapping(mapping.dmaAddress()).isEmpty());
            DmaMapping leftover = device.map(new byte[100], 0, 100, DmaDirection.FROM_DEVICE);
            device.close();
            assertTrue(leftover.isUnmapped(), "device close releases what the driver left mapped");
            assertEquals(0, platform.direct().swiotlb().usedSlots());
        }
    }

    @Test
    void aDeviceBeyondTheDefaultPoolGetsAnExtraPoolOrAClearError() {
        // The default pool lies in ZONE_DMA32 (above 16 MiB); a 24-bit device cannot reach it.
        SimulatedPlatform.Builder machine = SimulatedPlatform.builder().region(0, 16 * MiB).region(16 * MiB, 48 * MiB)
                .atomicPools(0, 0);
        try (SimulatedPlatform platform = machine.build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("isa"));
            device.setDmaMask(DmaMask.bits(24));
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> device.map(new byte[100], 0, 100, DmaDirection.TO_DEVICE));
            assertTrue(e.getMessage().contains("beyond the device's reach") && e.getMessage().contains("dynamicMaxBytes"),
                    e.getMessage());
        }
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(16 * MiB, 48 * MiB)
                .atomicPools(0, 0).bouncePool(SwiotlbConfig.defaults().withBytes(4 * MiB).withDynamicMax(2 * MiB)).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("isa"));
            device.setDmaMask(DmaMask.bits(24));
            DmaMapping mapping = device.map(new byte[100], 0, 100, DmaDirection.TO_DEVICE);
            assertTrue(mapping.dmaAddress() < 16 * MiB);
            assertEquals(2, platform.direct().swiotlb().stats().pools());
            DmaMapping atomic = device.map(new byte[100], 0, 100, DmaDirection.TO_DEVICE, DmaAttr.ATOMIC);
            assertTrue(atomic.dmaAddress() < 16 * MiB, "the extra pool is reused without growing");
            atomic.close();
            mapping.close();
        }
    }
}
