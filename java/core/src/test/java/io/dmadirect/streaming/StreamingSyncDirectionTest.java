package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaUsageException;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.SwiotlbStats;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The direction of a sync, from the kernel.
 *
 * <p>{@code dma_direct_sync_single_for_cpu/device()} act on the direction the sync names: swiotlb copies
 * back for a {@code FROM_DEVICE} or {@code BIDIRECTIONAL} sync for the CPU, and in for a {@code TO_DEVICE} or
 * {@code BIDIRECTIONAL} sync for the device. dma-debug's {@code check_sync()} returns early for a
 * {@code BIDIRECTIONAL} mapping, so any direction is fine there; for a one-way mapping it reports "device driver
 * syncs DMA memory with different direction". The library reports what dma-debug reports as a
 * {@link DmaUsageException} (its checks are always on), and does what the sync's direction says otherwise.
 * {@code DMA_NONE} is no direction at all ({@code BUG_ON(!valid_dma_direction(dir))}).
 */
class StreamingSyncDirectionTest {
    private static final DmaDirection[] DIRECTIONS = {DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE,
        DmaDirection.BIDIRECTIONAL};

    /** check_sync(): allowed when the mapping is BIDIRECTIONAL or the directions agree. */
    private static boolean allowed(DmaDirection mapped, DmaDirection synced) {
        return mapped == DmaDirection.BIDIRECTIONAL || mapped == synced;
    }

    @TestFactory
    Stream<DynamicTest> everyMappingDirectionAgainstEverySyncDirection() {
        List<DynamicTest> rows = new ArrayList<>();
        for (DmaDirection mapped : DIRECTIONS) {
            for (DmaDirection synced : DIRECTIONS) {
                for (boolean forCpu : new boolean[] {true, false}) {
                    String name = "mapped " + mapped + ", sync for the " + (forCpu ? "CPU" : "device") + " as " + synced;
                    rows.add(dynamicTest(name, () -> row(mapped, synced, forCpu, name)));
                }
            }
        }
        return rows.stream();
    }

    private static void row(DmaDirection mapped, DmaDirection synced, boolean forCpu, String name) {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev"));
            byte[] array = new byte[128];
            DmaMapping mapping = device.map(array, 0, array.length, mapped);
            SwiotlbStats before = platform.direct().swiotlb().stats();
            Runnable sync = forCpu ? () -> device.syncForCpu(mapping, synced) : () -> device.syncForDevice(mapping, synced);
            if (!allowed(mapped, synced)) {
                DmaUsageException e = assertThrows(DmaUsageException.class, sync::run, name);
                assertTrue(e.getMessage().contains("direction"), e.getMessage());
                mapping.close();
                return;
            }
            sync.run();
            SwiotlbStats after = platform.direct().swiotlb().stats();
            // The copy follows the sync's direction, not the mapping's.
            boolean copyBack = forCpu && synced != DmaDirection.TO_DEVICE;
            boolean copyIn = !forCpu && synced != DmaDirection.FROM_DEVICE;
            assertEquals(before.bytesFromDevice() + (copyBack ? 128 : 0), after.bytesFromDevice(), name + ": copy back");
            assertEquals(before.bytesToDevice() + (copyIn ? 128 : 0), after.bytesToDevice(), name + ": copy in");
            mapping.close();
        }
    }

    /** A BIDIRECTIONAL receive buffer synced FROM_DEVICE for the CPU sees what the device wrote. */
    @Test
    void bidirectionalMappingSyncedOneWayMovesTheData() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev"));
            byte[] array = new byte[64];
            DmaMapping mapping = device.map(array, 0, array.length, DmaDirection.BIDIRECTIONAL);
            byte[] written = "reply".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            platform.busMaster(device, 32).write(mapping.dmaAddress(), written);
            device.syncForCpu(mapping, 0, written.length, DmaDirection.FROM_DEVICE);
            assertArrayEquals(written, java.util.Arrays.copyOf(array, written.length));
            array[10] = 42;
            device.syncForDevice(mapping, DmaDirection.TO_DEVICE);
            assertEquals(42, platform.busMaster(device, 32).read(mapping.dmaAddress() + 10, 1)[0]);
            mapping.close();
        }
    }

    @Test
    void noneIsNoDirection() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev"));
            DmaMapping mapping = device.map(new byte[64], 0, 64, DmaDirection.BIDIRECTIONAL);
            assertThrows(IllegalArgumentException.class, () -> device.syncForCpu(mapping, DmaDirection.NONE));
            assertThrows(IllegalArgumentException.class, () -> device.syncForDevice(mapping, 0, 8, DmaDirection.NONE));
            mapping.close();
        }
    }
}
