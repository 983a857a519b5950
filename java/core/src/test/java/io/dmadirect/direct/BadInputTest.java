package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each misuse gets a clear exception, and the memory accounting is exactly what it was before. */
class BadInputTest {
    private SimulatedPlatform platform;
    private DmaDevice device;

    @BeforeEach
    void open() {
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(64 * MiB, 32 * MiB).build();
        device = platform.attach(DeviceProperties.simple("bad-input"));
    }

    @AfterEach
    void close() {
        platform.close();
    }

    private <T extends Throwable> T assertRejectedWithoutChange(Class<T> type, Executable action, String... words) {
        platform.drainThreadCaches();
        MemoryStats before = platform.memoryStats();
        T e = assertThrows(type, action);
        for (String word : words) {
            assertTrue(e.getMessage().contains(word), "message should contain '" + word + "': " + e.getMessage());
        }
        platform.drainThreadCaches();
        assertEquals(before, platform.memoryStats(), "accounting changed by a rejected call");
        return e;
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -4096, Long.MIN_VALUE})
    void nonPositiveSizesAreRejected(long size) {
        assertRejectedWithoutChange(IllegalArgumentException.class, () -> device.allocCoherent(size), "at least 1 byte");
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, Long.MAX_VALUE - 4000, Long.MAX_VALUE - 4094})
    void sizesThatOverflowWhenRoundedAreRejected(long size) {
        assertRejectedWithoutChange(IllegalArgumentException.class, () -> device.allocCoherent(size), "overflows");
    }

    @Test
    void sizesLargerThanAllMemoryFailCleanly() {
        assertRejectedWithoutChange(io.dmadirect.DmaAllocationException.class,
                () -> device.allocCoherent(Long.MAX_VALUE - 8192), "failed to allocate");
        assertRejectedWithoutChange(io.dmadirect.DmaAllocationException.class,
                () -> device.allocCoherent(Long.MAX_VALUE - 4095), "failed to allocate");
        assertRejectedWithoutChange(io.dmadirect.DmaAllocationException.class,
                () -> device.allocCoherent(1L << 40), "failed to allocate");
    }

    @Test
    void masksOutsideOneTo64BitsAreRejected() {
        assertRejectedWithoutChange(IllegalArgumentException.class, () -> device.setDmaMask(DmaMask.bits(0)), "1 to 64");
        assertRejectedWithoutChange(IllegalArgumentException.class, () -> device.setDmaMask(DmaMask.bits(65)), "1 to 64");
        assertRejectedWithoutChange(NullPointerException.class, () -> device.setDmaMask(null));
        assertEquals(DmaMask.BITS_32, device.dmaMask(), "a rejected mask leaves the old one");
    }

    @Test
    void doubleFreeIsRejected() {
        DmaBuffer buffer = device.allocCoherent(4096);
        buffer.close();
        assertRejectedWithoutChange(DmaUsageException.class, buffer::close, "double free");
        assertRejectedWithoutChange(DmaUsageException.class, () -> device.freeCoherent(buffer), "double free");
    }

    @Test
    void freeingThroughAnotherDeviceIsRejected() {
        DmaDevice other = platform.attach(DeviceProperties.simple("other"));
        DmaBuffer buffer = device.allocCoherent(4096);
        assertRejectedWithoutChange(DmaUsageException.class, () -> other.freeCoherent(buffer), "another device");
        buffer.close();
    }

    @Test
    void freeingABufferOfAnotherPlatformIsRejected() {
        try (SimulatedPlatform second = SimulatedPlatform.builder().region(0, 16 * MiB).build()) {
            DmaDevice foreign = second.attach(DeviceProperties.simple("foreign"));
            DmaBuffer buffer = foreign.allocCoherent(8192);
            assertRejectedWithoutChange(DmaUsageException.class, () -> device.freeCoherent(buffer), "another device");
            buffer.close();
        }
    }

    @Test
    void useAfterDeviceCloseIsRejectedAndFreesWhatWasLeft() {
        platform.drainThreadCaches();
        MemoryStats start = platform.memoryStats();
        DmaBuffer leftover = device.allocCoherent(64 * 1024);
        device.close();
        platform.drainThreadCaches();
        assertEquals(start, platform.memoryStats(), "close frees what the driver left");
        assertTrue(leftover.isFreed());
        assertRejectedWithoutChange(DmaUsageException.class, () -> device.allocCoherent(4096), "is closed");
        assertRejectedWithoutChange(DmaUsageException.class, () -> device.setDmaMask(DmaMask.BITS_64), "is closed");
        assertRejectedWithoutChange(DmaUsageException.class, leftover::cpuView, "is closed");
        assertRejectedWithoutChange(DmaUsageException.class, () -> device.freeCoherent(leftover), "is closed");
        // close() of a buffer its device's close reclaimed is quiet: a driver's try-with-resources during
        // shutdown must not throw.
        MemoryStats before = platform.memoryStats();
        leftover.close();
        assertEquals(before, platform.memoryStats());
        assertTrue(leftover.isFreed());
    }

    @Test
    void allocationAfterPlatformCloseIsRejected() {
        DmaBuffer buffer = device.allocCoherent(4096);
        platform.close();
        DmaUsageException e = assertThrows(DmaUsageException.class, () -> device.allocCoherent(4096));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(DmaUsageException.class, () -> platform.attach(DeviceProperties.simple("late")));
        assertTrue(buffer.isFreed(), "closing the platform frees its buffers");
        assertThrows(DmaUsageException.class, buffer::cpuView);
    }

    @Test
    void noKernelMappingBufferHasNoCpuView() {
        DmaBuffer buffer = device.allocCoherent(4096, io.dmadirect.DmaAttr.NO_KERNEL_MAPPING);
        assertRejectedWithoutChange(DmaUsageException.class, buffer::cpuView, "NO_KERNEL_MAPPING");
        buffer.close();
    }
}
