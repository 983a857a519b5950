package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The counterpart of {@code dma_kmalloc_needs_bounce()} ({@code include/linux/dma-map-ops.h}), which
 * {@code dma_direct_map_phys()} checks beside {@code dma_capable()}: a non-coherent device's mapping that
 * shares a cache line with CPU data bounces, unless it is {@code TO_DEVICE} ({@code dma_kmalloc_safe()}: a clean
 * is non-destructive). The kernel judges a kmalloc buffer by its size; a slice of a buffer is judged by both its
 * ends against {@code dma_get_cache_alignment()} (64 bytes here). Without a bounce pool the kernel's path ends in
 * {@code DMA_MAPPING_ERROR}, so the mapping fails.
 */
class StreamingCacheLineBounceTest {
    private static final int LINE = 64;

    private record Row(boolean coherent, DmaDirection dir, int offset, int length, boolean bounces) { }

    private static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        int[][] slices = {{0, 4096}, {LINE, 2 * LINE}, {1, 4095}, {0, 100}, {LINE, 100}, {3, 8}};
        for (boolean coherent : new boolean[] {true, false}) {
            for (DmaDirection dir : new DmaDirection[] {DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE,
                DmaDirection.BIDIRECTIONAL}) {
                for (int[] s : slices) {
                    boolean aligned = s[0] % LINE == 0 && s[1] % LINE == 0;
                    boolean bounces = !coherent && dir != DmaDirection.TO_DEVICE && !aligned;
                    rows.add(new Row(coherent, dir, s[0], s[1], bounces));
                }
            }
        }
        return rows;
    }

    @TestFactory
    Stream<DynamicTest> sharedCacheLinesBounceOnlyWhereTheKernelBounces() {
        return rows().stream().map(row -> dynamicTest(row.toString(), () -> check(row)));
    }

    private static void check(Row row) {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev").withCoherent(row.coherent()));
            DmaBuffer buffer = device.allocCoherent(8192);
            ByteBuffer slice = buffer.cpuView().position(row.offset()).limit(row.offset() + row.length());
            DmaMapping mapping = device.map(slice, row.dir());
            assertEquals(row.bounces(), mapping.isBounced(), row.toString());
            if (row.dir() != DmaDirection.TO_DEVICE) {
                byte[] written = new byte[Math.min(8, row.length())];
                java.util.Arrays.fill(written, (byte) 7);
                platform.busMaster(device, 32).write(mapping.dmaAddress(), written);
            }
            mapping.close();
            if (row.dir() != DmaDirection.TO_DEVICE) {
                byte[] seen = new byte[Math.min(8, row.length())];
                buffer.cpuView().get(row.offset(), seen);
                byte[] expected = new byte[seen.length];
                java.util.Arrays.fill(expected, (byte) 7);
                assertArrayEquals(expected, seen, row + ": the device's bytes arrive either way");
            }
            buffer.close();
        }
    }

    @Test
    void withoutABouncePoolTheMappingFailsAndSaysWhy() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0)
                .bouncePool(SwiotlbConfig.none()).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
            DmaBuffer buffer = device.allocCoherent(4096);
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> device.map(buffer.cpuView().position(8).limit(40), DmaDirection.FROM_DEVICE));
            assertTrue(e.getMessage().contains("cache lines"), e.getMessage());
            device.map(buffer.cpuView().position(64).limit(128), DmaDirection.FROM_DEVICE).close();
            device.map(buffer.cpuView().position(8).limit(40), DmaDirection.TO_DEVICE).close();
            buffer.close();
        }
    }
}
