package io.dmadirect.streaming;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The primitive streaming API ({@code dma_map_single_attrs()} and friends on {@code long} DMA addresses): what
 * each call does in the kernel's terms, and every misuse refused with a {@link DmaUsageException}.
 */
class PrimitiveStreamingTest {
    private static final byte[] DATA = "primitive streaming dma".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** DMA32 memory and memory above 4 GiB, so a 32-bit device bounces what lies high. */
    static SimulatedPlatform twoZones() {
        return SimulatedPlatform.builder().region(0, 64 * MiB).region(8 * GiB, 64 * MiB).atomicPools(0, 0)
                .bouncePool(SwiotlbConfig.defaults().withBytes(4 * MiB)).build();
    }

    private static long usedSlots(SimulatedPlatform platform) {
        return platform.direct().swiotlb().usedSlots();
    }

    @Test
    void dmaMemoryMapsDirectlyAndItsUnmapOnACoherentDeviceIsANoOp() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("direct"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer coherent = device.allocCoherent(8192);
            long dma = device.mapSingle(coherent.cpuView(), 100, 1000, DmaDirection.TO_DEVICE, 0);
            assertEquals(coherent.dmaAddress() + 100, dma, "offset 100 of the buffer, whatever its position");
            assertEquals(0, usedSlots(platform));
            assertFalse(device.needSync(dma), "a coherent device's direct mapping needs no sync");
            device.syncSingleForDevice(dma, 1000, DmaDirection.TO_DEVICE);
            device.unmapSingle(dma, 1000, DmaDirection.TO_DEVICE, 0);
            device.unmapSingle(dma, 1000, DmaDirection.TO_DEVICE, 0); // no state: dma-debug (the agent) checks this
            long raw = device.mapSingle(RawMemory.addressOf(coherent.cpuView()) + 64, 64, DmaDirection.FROM_DEVICE, 0);
            assertEquals(coherent.dmaAddress() + 64, raw, "a raw CPU address inside pinned memory");
            device.unmapSingle(raw, 64, DmaDirection.FROM_DEVICE, 0);
            coherent.close();
        }
    }

    @Test
    void aRawAddressThePlatformCannotCheckIsRefused() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("raw"));
            ByteBuffer notPinned = ByteBuffer.allocateDirect(4096);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> device.mapSingle(RawMemory.addressOf(notPinned), 4096, DmaDirection.TO_DEVICE, 0));
            assertTrue(e.getMessage().contains("pinned memory"), e.getMessage());
            DmaBuffer coherent = device.allocCoherent(4096);
            long end = RawMemory.addressOf(coherent.cpuView());
            assertThrows(IllegalArgumentException.class, () -> device.mapSingle(end, 64 * MiB + 1, DmaDirection.TO_DEVICE, 0),
                    "a range running past the pinned run");
            assertEquals(0, usedSlots(platform));
        }
    }

    @Test
    void aBounceCopiesByDirectionAndIsFoundFromItsAddress() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("bounce"));
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            ByteBuffer out = ByteBuffer.allocateDirect(4096);
            out.put(10, DATA);
            long dma = device.mapSingle(out, 0, 4096, DmaDirection.TO_DEVICE, 0);
            assertTrue(usedSlots(platform) > 0, "not DMA memory: it bounced");
            assertTrue(device.needSync(dma), "a bounce needs its syncs");
            assertArrayEquals(DATA, engine.read(dma + 10, DATA.length), "TO_DEVICE copies at map");
            device.unmapSingle(dma, 4096, DmaDirection.TO_DEVICE, 0);
            assertEquals(0, usedSlots(platform));

            byte[] heap = new byte[3000];
            ByteBuffer in = ByteBuffer.wrap(heap);
            long from = device.mapSingle(in, 1000, 2000, DmaDirection.FROM_DEVICE, 0);
            engine.write(from + 5, DATA);
            device.unmapSingle(from, 2000, DmaDirection.FROM_DEVICE, 0);
            assertArrayEquals(DATA, Arrays.copyOfRange(heap, 1005, 1005 + DATA.length), "FROM_DEVICE copies back at unmap");

            byte[] skipped = new byte[512];
            long noCopy = device.mapSingle(ByteBuffer.wrap(skipped), 0, 512, DmaDirection.FROM_DEVICE, 0);
            engine.write(noCopy, DATA);
            device.unmapSingle(noCopy, 512, DmaDirection.FROM_DEVICE, DmaAttr.flags(DmaAttr.SKIP_CPU_SYNC));
            assertArrayEquals(new byte[DATA.length], Arrays.copyOf(skipped, DATA.length),
                    "SKIP_CPU_SYNC at unmap skips the copy back");
            assertEquals(0, usedSlots(platform));
        }
    }

    @Test
    void aSyncMayNameAnyRangeInsideTheMappingAndFollowsTheSyncsDirection() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("range"));
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
            long dma = device.mapSingle(buffer, 0, 4096, DmaDirection.BIDIRECTIONAL, 0);
            engine.write(dma + 100, DATA);
            engine.write(dma + 2000, DATA);
            device.syncSingleForCpu(dma + 100, DATA.length, DmaDirection.FROM_DEVICE);
            byte[] seen = new byte[DATA.length];
            buffer.get(100, seen);
            assertArrayEquals(DATA, seen, "dma_sync_single_range_for_cpu: the range is copied back");
            buffer.get(2000, seen);
            assertArrayEquals(new byte[DATA.length], seen, "and only the range");
            buffer.put(3000, DATA);
            device.syncSingleForDevice(dma + 3000, DATA.length, DmaDirection.TO_DEVICE);
            assertArrayEquals(DATA, engine.read(dma + 3000, DATA.length));
            assertThrows(DmaUsageException.class, () -> device.syncSingleForCpu(dma + 4000, 200, DmaDirection.FROM_DEVICE),
                    "past the mapping's end");
            device.unmapSingle(dma, 4096, DmaDirection.BIDIRECTIONAL, 0);

            long toDevice = device.mapSingle(buffer, 0, 4096, DmaDirection.TO_DEVICE, 0);
            assertThrows(DmaUsageException.class, () -> device.syncSingleForCpu(toDevice, 64, DmaDirection.FROM_DEVICE),
                    "a TO_DEVICE mapping synced FROM_DEVICE (check_sync)");
            device.unmapSingle(toDevice, 4096, DmaDirection.TO_DEVICE, 0);
        }
    }

    @Test
    void misusedBounceAddressesAreUsageErrorsAndLeaveTheSlotsAlone() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("misuse"));
            DmaDevice other = platform.attach(DeviceProperties.simple("other"));
            ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
            long dma = device.mapSingle(buffer, 0, 4096, DmaDirection.FROM_DEVICE, 0);
            long used = usedSlots(platform);
            String[] cases = {"inside, not the start", "larger than mapped", "wrong direction", "another device"};
            Runnable[] misuse = {
                () -> device.unmapSingle(dma + 8, 100, DmaDirection.FROM_DEVICE, 0),
                () -> device.unmapSingle(dma, 4097, DmaDirection.FROM_DEVICE, 0),
                () -> device.unmapSingle(dma, 4096, DmaDirection.TO_DEVICE, 0),
                () -> other.unmapSingle(dma, 4096, DmaDirection.FROM_DEVICE, 0),
            };
            for (int i = 0; i < cases.length; i++) {
                assertThrows(DmaUsageException.class, misuse[i]::run, cases[i]);
                assertEquals(used, usedSlots(platform), cases[i] + ": nothing released");
            }
            device.unmapSingle(dma, 4096, DmaDirection.FROM_DEVICE, 0);
            DmaUsageException twice = assertThrows(DmaUsageException.class,
                    () -> device.unmapSingle(dma, 4096, DmaDirection.FROM_DEVICE, 0));
            assertTrue(twice.getMessage().contains("double unmap"), twice.getMessage());
            assertThrows(DmaUsageException.class, () -> device.syncSingleForCpu(dma, 64, DmaDirection.FROM_DEVICE),
                    "a sync after the unmap");

            DmaMapping object = device.map(buffer, DmaDirection.TO_DEVICE);
            DmaUsageException mixed = assertThrows(DmaUsageException.class,
                    () -> device.unmapSingle(object.dmaAddress(), 4096, DmaDirection.TO_DEVICE, 0));
            assertTrue(mixed.getMessage().contains("through that object"), mixed.getMessage());
            object.close();
            assertEquals(0, usedSlots(platform));
        }
    }

    @Test
    void aNonCoherentDevicesDirectMappingIsMaintainedThroughThePlatformsTable() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer coherent = device.allocCoherent(8192);
            long dma = device.mapSingle(coherent.cpuView(), 0, 4096, DmaDirection.FROM_DEVICE, 0);
            assertEquals(coherent.dmaAddress(), dma, "cache-line aligned: direct");
            assertTrue(device.needSync(dma), "a non-coherent device needs its syncs");
            long invalidated = platform.caches().invalidatedBytes();
            device.syncSingleForCpu(dma + 64, 128, DmaDirection.FROM_DEVICE);
            assertEquals(invalidated + 128, platform.caches().invalidatedBytes(), "arch_sync_dma_for_cpu of the range");
            device.unmapSingle(dma, 4096, DmaDirection.FROM_DEVICE, 0);
            assertEquals(invalidated + 128 + 4096, platform.caches().invalidatedBytes(), "and of the whole at unmap");
            device.unmapSingle(dma, 4096, DmaDirection.FROM_DEVICE, DmaAttr.flags(DmaAttr.SKIP_CPU_SYNC));
            assertEquals(invalidated + 128 + 4096, platform.caches().invalidatedBytes(), "SKIP_CPU_SYNC: none");
            DmaUsageException e = assertThrows(DmaUsageException.class,
                    () -> device.unmapSingle(4 * GiB, 4096, DmaDirection.FROM_DEVICE, 0));
            assertTrue(e.getMessage().contains("no memory this platform holds"), e.getMessage());
            coherent.close();
        }
    }

    @Test
    void everyPrimitiveCallIsRefusedAfterClose() {
        try (SimulatedPlatform platform = twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("closing"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer coherent = device.allocCoherent(4096);
            long direct = device.mapSingle(coherent.cpuView(), 0, 4096, DmaDirection.TO_DEVICE, 0);
            long bounced = device.mapSingle(ByteBuffer.allocate(4096), 0, 4096, DmaDirection.TO_DEVICE, 0);
            assertNotEquals(0, usedSlots(platform));
            device.close();
            assertEquals(0, usedSlots(platform), "close released the bounce the driver left");
            long[] out = new long[1];
            Runnable[] calls = {
                () -> device.mapSingle(ByteBuffer.allocateDirect(64), 0, 64, DmaDirection.TO_DEVICE, 0),
                () -> device.unmapSingle(direct, 4096, DmaDirection.TO_DEVICE, 0),
                () -> device.unmapSingle(bounced, 4096, DmaDirection.TO_DEVICE, 0),
                () -> device.syncSingleForCpu(direct, 64, DmaDirection.TO_DEVICE),
                () -> device.syncSingleForDevice(bounced, 64, DmaDirection.TO_DEVICE),
                () -> device.mapSg(new ByteBuffer[] {ByteBuffer.allocate(64)}, 1, DmaDirection.TO_DEVICE, 0, out),
                () -> device.setSegBoundary(0xffff),
                () -> device.setMaxSegSize(4096),
            };
            for (Runnable call : calls) {
                assertThrows(DmaUsageException.class, call::run);
            }
            assertEquals(0xffff_ffffL, device.segBoundary(), "getters keep answering after close");
            assertEquals(65536, device.maxSegSize());
            assertTrue(device.needSync(bounced));
        }
    }
}
