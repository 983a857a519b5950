package io.dmadirect.streaming;

import static io.dmadirect.Sizes.KiB;
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
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import io.dmadirect.spi.SwiotlbConfig;
import io.dmadirect.swiotlb.SwiotlbStats;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Each misuse of the streaming API gives a clear exception and changes nothing: the bounce pool's slots
 * and counters and the page allocator's free memory are the same before and after the rejected call.
 */
class StreamingBadInputTest {
    private SimulatedPlatform platform;
    private DmaDevice device;
    private DmaDevice other;
    private Swiotlb tlb;

    @BeforeEach
    void setUp() {
        platform = SimulatedPlatform.builder().region(0, 64 * MiB).region(4L << 30, 64 * MiB).atomicPools(0, 0)
                .bouncePool(SwiotlbConfig.defaults().withBytes(2 * MiB)).build();
        device = platform.attach(DeviceProperties.simple("bad-input"));
        other = platform.attach(DeviceProperties.simple("other"));
        tlb = platform.direct().swiotlb();
    }

    @AfterEach
    void tearDown() {
        platform.close();
    }

    /** Runs {@code call}, expects {@code type} with a message naming {@code words}, and no change in any counter. */
    private <T extends Throwable> void rejected(Class<T> type, Executable call, String... words) {
        SwiotlbStats before = tlb.stats();
        MemoryStats memory = platform.memoryStats();
        T e = assertThrows(type, call);
        for (String word : words) {
            assertTrue(e.getMessage().contains(word), "message names '" + word + "': " + e.getMessage());
        }
        assertEquals(before, tlb.stats(), "the bounce pool changed on a rejected call");
        assertEquals(memory, platform.memoryStats(), "memory changed on a rejected call");
    }

    @Test
    void unmappingTwice() {
        DmaMapping mapping = device.map(new byte[100], 0, 100, DmaDirection.TO_DEVICE);
        mapping.close();
        rejected(DmaUsageException.class, mapping::close, "double unmap");
        rejected(DmaUsageException.class, () -> device.unmap(mapping), "double unmap");
    }

    @Test
    void unmappingTwiceDirect() {
        DmaBuffer coherent = device.allocCoherent(8192);
        DmaMapping mapping = device.map(coherent.cpuView(), DmaDirection.FROM_DEVICE);
        assertFalse(mapping.isBounced());
        mapping.close();
        rejected(DmaUsageException.class, mapping::close, "double unmap");
        coherent.close();
    }

    @Test
    void syncAfterUnmap() {
        DmaMapping mapping = device.map(new byte[4096], 0, 4096, DmaDirection.BIDIRECTIONAL);
        mapping.close();
        rejected(DmaUsageException.class, mapping::syncForCpu, "unmapped");
        rejected(DmaUsageException.class, mapping::syncForDevice, "unmapped");
        rejected(DmaUsageException.class, () -> mapping.syncForCpu(0, 10), "unmapped");
    }

    @Test
    void syncInTheWrongDirection() {
        DmaMapping mapping = device.map(new byte[4096], 0, 4096, DmaDirection.TO_DEVICE);
        rejected(DmaUsageException.class, () -> device.syncForCpu(mapping, DmaDirection.FROM_DEVICE), "FROM_DEVICE",
                "TO_DEVICE");
        rejected(DmaUsageException.class, () -> device.syncForDevice(mapping, DmaDirection.BIDIRECTIONAL), "BIDIRECTIONAL");
        rejected(DmaUsageException.class, () -> device.syncForDevice(mapping, 0, 10, DmaDirection.FROM_DEVICE), "direction");
        mapping.close();
    }

    @Test
    void syncRangeOutsideTheMapping() {
        DmaMapping mapping = device.map(new byte[4096], 0, 4096, DmaDirection.BIDIRECTIONAL);
        rejected(DmaUsageException.class, () -> mapping.syncForCpu(4000, 97), "not inside");
        rejected(DmaUsageException.class, () -> mapping.syncForDevice(-1, 10), "not inside");
        rejected(DmaUsageException.class, () -> mapping.syncForDevice(0, 0), "not inside");
        rejected(DmaUsageException.class, () -> mapping.syncForCpu(4096, 1), "not inside");
        rejected(DmaUsageException.class, () -> mapping.syncForCpu(1, Long.MAX_VALUE), "not inside");
        mapping.syncForCpu(4095, 1);
        mapping.close();
    }

    @Test
    void sizeZero() {
        rejected(IllegalArgumentException.class, () -> device.map(new byte[10], 3, 0, DmaDirection.TO_DEVICE), "at least 1 byte");
        rejected(IllegalArgumentException.class, () -> device.map(ByteBuffer.allocateDirect(0), DmaDirection.TO_DEVICE),
                "at least 1 byte");
        DmaBuffer coherent = device.allocCoherent(4096);
        rejected(IllegalArgumentException.class, () -> device.map(coherent.cpuView().position(4096), DmaDirection.FROM_DEVICE),
                "at least 1 byte");
        coherent.close();
    }

    @Test
    void moreThanMaxMappingSize() {
        // A 32-bit device on a machine with memory above 4 GiB may bounce anything: the pool's limit applies.
        device.setDmaMask(DmaMask.BITS_32);
        long max = device.maxMappingSize();
        assertEquals(Swiotlb.SEGMENT_BYTES, max);
        // Heap memory bounces, and a bounce is bounded by swiotlb_max_mapping_size() (the advice's value here).
        rejected(DmaMappingException.class, () -> device.map(new byte[(int) max + 1], 0, (int) max + 1, DmaDirection.TO_DEVICE),
                "swiotlb_max_mapping_size", "256 KiB");
        device.setMinAlignMask(4095);
        assertEquals(Swiotlb.SEGMENT_BYTES - 4 * KiB, device.maxMappingSize(), "min_align_mask takes a page off");
        int size = (int) device.maxMappingSize() + 1;
        rejected(DmaMappingException.class, () -> device.map(new byte[size], 0, size, DmaDirection.FROM_DEVICE),
                "swiotlb_max_mapping_size");
        device.map(new byte[size - 1], 0, size - 1, DmaDirection.FROM_DEVICE).close();
    }

    @Test
    void heapMemoryIsLimitedEvenForAWideDevice() {
        device.setDmaMask(DmaMask.BITS_64);
        assertEquals(Long.MAX_VALUE, device.maxMappingSize(), "a 64-bit device need not bounce pinned memory");
        int size = (int) Swiotlb.SEGMENT_BYTES + 1;
        rejected(DmaMappingException.class, () -> device.map(new byte[size], 0, size, DmaDirection.TO_DEVICE),
                "at most 256 KiB", "Split");
    }

    @Test
    void unmappingAMappingOfAnotherDevice() {
        DmaMapping mapping = device.map(new byte[64], 0, 64, DmaDirection.TO_DEVICE);
        rejected(DmaUsageException.class, () -> other.unmap(mapping), "another device");
        rejected(DmaUsageException.class, () -> other.syncForDevice(mapping, DmaDirection.TO_DEVICE), "another device");
        assertFalse(mapping.isUnmapped());
        mapping.close();
    }

    @Test
    void directionNoneAndReadOnlyTargets() {
        rejected(IllegalArgumentException.class, () -> device.map(new byte[8], 0, 8, DmaDirection.NONE), "direction");
        rejected(IllegalArgumentException.class, () -> device.map(new byte[8], 0, 8, null), "direction");
        ByteBuffer readOnly = ByteBuffer.allocateDirect(64).asReadOnlyBuffer();
        rejected(IllegalArgumentException.class, () -> device.map(readOnly, DmaDirection.FROM_DEVICE), "read-only");
        rejected(IndexOutOfBoundsException.class, () -> device.map(new byte[8], 4, 5, DmaDirection.TO_DEVICE));
        device.map(readOnly, DmaDirection.TO_DEVICE).close();
    }

    @Test
    void aFullPoolSaysHowFull() {
        Supplier<DmaMapping> big = () -> device.map(new byte[(int) Swiotlb.SEGMENT_BYTES], 0, (int) Swiotlb.SEGMENT_BYTES,
                DmaDirection.TO_DEVICE);
        java.util.List<DmaMapping> held = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            held.add(big.get());
        }
        assertEquals(1024, tlb.usedSlots());
        rejected(DmaMappingException.class, () -> device.map(new byte[1], 0, 1, DmaDirection.TO_DEVICE), "2 MiB",
                "1024 slots in use", "largest free run 0 slots");
        held.remove(3).close();
        DmaMapping half = device.map(new byte[100 * 1024], 0, 100 * 1024, DmaDirection.TO_DEVICE);
        long largest = tlb.stats().largestFreeRun();
        assertEquals(128 - 50, largest, "one segment, less the 50 slots of 100 KiB");
        // Fragmentation, not exhaustion: 78 slots free in a row, yet no room for 128.
        rejected(DmaMappingException.class, big::get, "largest free run 78 slots", "946 slots in use");
        half.close();
        held.forEach(DmaMapping::close);
        assertEquals(0, tlb.usedSlots());
    }

    @Test
    void noBouncePool() {
        try (SimulatedPlatform bare = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0)
                .bouncePool(SwiotlbConfig.none()).build()) {
            DmaDevice dev = bare.attach(DeviceProperties.simple("no-pool"));
            assertThrows(DmaMappingException.class, () -> dev.map(new byte[8], 0, 8, DmaDirection.TO_DEVICE),
                    "heap memory needs a bounce pool");
            DmaBuffer coherent = dev.allocCoherent(4096);
            dev.map(coherent.cpuView(), DmaDirection.TO_DEVICE).close();
            assertEquals(Long.MAX_VALUE, dev.maxMappingSize());
        }
    }
}
