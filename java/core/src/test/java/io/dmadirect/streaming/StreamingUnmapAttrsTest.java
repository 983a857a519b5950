package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.RecordingCaches;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The attributes of an unmap are the unmap's own, as the kernel's {@code dma_unmap_single_attrs()} takes
 * them, and never the map's.
 *
 * <p>The rules, from {@code dma_direct_map_phys()} / {@code swiotlb_tbl_map_single()} and
 * {@code dma_direct_unmap_phys()}:
 * <ul>
 *   <li>map: a bounce buffer is filled from the original whatever the attributes (the CVE-2022-0854 fix);
 *       {@code arch_sync_dma_for_device()} runs for a non-coherent device unless the map's
 *       {@code SKIP_CPU_SYNC};</li>
 *   <li>unmap: unless the unmap's {@code SKIP_CPU_SYNC}, {@code dma_direct_sync_single_for_cpu()}: the
 *       arch invalidate for a non-coherent device, and the swiotlb copy back for {@code FROM_DEVICE} and
 *       {@code BIDIRECTIONAL}; then the slots are released with {@code attrs | DMA_ATTR_SKIP_CPU_SYNC}.</li>
 * </ul>
 * Every row: (map attrs) x (unmap attrs) x (direction) x (how the unmap is said), for a bounced mapping and
 * for a non-coherent direct one.
 */
class StreamingUnmapAttrsTest {
    /** NO_WARN rides along once: it must change nothing about the sync. */
    private static final DmaAttr[][] ATTRS = {{}, {DmaAttr.SKIP_CPU_SYNC}, {DmaAttr.SKIP_CPU_SYNC, DmaAttr.NO_WARN}};
    private static final DmaDirection[] DIRECTIONS = {DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE,
        DmaDirection.BIDIRECTIONAL};
    private static final byte[] WRITTEN = "what the device wrote".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** The ways to say an unmap: the device's call, or the mapping's close (its plain close() when there are no attrs). */
    enum Unmap { DEVICE_UNMAP, CLOSE_WITH_ATTRS }

    private static boolean skips(DmaAttr[] attrs) {
        return Arrays.asList(attrs).contains(DmaAttr.SKIP_CPU_SYNC);
    }

    private static void unmap(DmaDevice device, DmaMapping mapping, DmaAttr[] attrs, Unmap how) {
        if (how == Unmap.DEVICE_UNMAP) {
            device.unmap(mapping, attrs);
        } else if (attrs.length == 0) {
            mapping.close(); // plain close(): unmap with no attributes
        } else {
            mapping.closeWith(attrs);
        }
    }

    @TestFactory
    Stream<DynamicTest> bouncedCopyBackIsDecidedByTheUnmapsAttrs() {
        List<DynamicTest> rows = new ArrayList<>();
        for (DmaAttr[] mapAttrs : ATTRS) {
            for (DmaAttr[] unmapAttrs : ATTRS) {
                for (DmaDirection dir : DIRECTIONS) {
                    for (Unmap how : Unmap.values()) {
                        String name = "bounced " + dir + " map" + Arrays.toString(mapAttrs) + " unmap"
                                + Arrays.toString(unmapAttrs) + " by " + how;
                        rows.add(dynamicTest(name, () -> bouncedRow(mapAttrs, unmapAttrs, dir, how, name)));
                    }
                }
            }
        }
        return rows.stream();
    }

    private static void bouncedRow(DmaAttr[] mapAttrs, DmaAttr[] unmapAttrs, DmaDirection dir, Unmap how, String name) {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("bounce"));
            byte[] original = new byte[256];
            Arrays.fill(original, (byte) 'o');
            DmaMapping mapping = device.map(original, 0, original.length, dir, mapAttrs);
            assertTrue(mapping.isBounced(), name);
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            // swiotlb_tbl_map_single() copies in whatever the attributes: the device sees the original.
            assertArrayEquals(Arrays.copyOf(original, 16), engine.read(mapping.dmaAddress(), 16),
                    name + ": the map copies the original in, SKIP_CPU_SYNC or not");
            engine.write(mapping.dmaAddress(), WRITTEN);
            unmap(device, mapping, unmapAttrs, how);
            assertTrue(mapping.isUnmapped(), name);
            boolean copiedBack = !skips(unmapAttrs) && dir != DmaDirection.TO_DEVICE;
            byte[] seen = Arrays.copyOf(original, WRITTEN.length);
            byte[] untouched = new byte[WRITTEN.length];
            Arrays.fill(untouched, (byte) 'o');
            assertArrayEquals(copiedBack ? WRITTEN : untouched, seen, name + (copiedBack
                    ? ": an unmap without SKIP_CPU_SYNC copies back, whatever the map said"
                    : ": no copy back (TO_DEVICE, or the unmap's SKIP_CPU_SYNC)"));
            assertEquals(0, platform.direct().swiotlb().usedSlots(), name + ": the slots are released either way");
        }
    }

    @TestFactory
    Stream<DynamicTest> nonCoherentCacheWorkIsDecidedByEachCallsAttrs() {
        List<DynamicTest> rows = new ArrayList<>();
        for (DmaAttr[] mapAttrs : ATTRS) {
            for (DmaAttr[] unmapAttrs : ATTRS) {
                for (DmaDirection dir : DIRECTIONS) {
                    for (Unmap how : Unmap.values()) {
                        String name = "direct non-coherent " + dir + " map" + Arrays.toString(mapAttrs) + " unmap"
                                + Arrays.toString(unmapAttrs) + " by " + how;
                        rows.add(dynamicTest(name, () -> nonCoherentRow(mapAttrs, unmapAttrs, dir, how, name)));
                    }
                }
            }
        }
        return rows.stream();
    }

    private static void nonCoherentRow(DmaAttr[] mapAttrs, DmaAttr[] unmapAttrs, DmaDirection dir, Unmap how,
            String name) {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            RecordingCaches caches = platform.caches();
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
            DmaBuffer coherent = device.allocCoherent(4096);
            long clean = caches.cleanCalls();
            long inval = caches.invalidateCalls();
            DmaMapping mapping = device.map(coherent.cpuView(), dir, mapAttrs);
            assertFalse(mapping.isBounced(), name);
            // arch_sync_dma_for_device(): clean for TO_DEVICE, invalidate for FROM_DEVICE, both for BIDIRECTIONAL.
            boolean mapSync = !skips(mapAttrs);
            assertEquals(clean + (mapSync && dir != DmaDirection.FROM_DEVICE ? 1 : 0), caches.cleanCalls(), name + ": map clean");
            assertEquals(inval + (mapSync && dir != DmaDirection.TO_DEVICE ? 1 : 0), caches.invalidateCalls(),
                    name + ": map invalidate");
            long cleanAtUnmap = caches.cleanCalls();
            long invalAtUnmap = caches.invalidateCalls();
            unmap(device, mapping, unmapAttrs, how);
            // arch_sync_dma_for_cpu(): an invalidate unless TO_DEVICE, skipped only by the unmap's SKIP_CPU_SYNC.
            boolean unmapSync = !skips(unmapAttrs) && dir != DmaDirection.TO_DEVICE;
            assertEquals(invalAtUnmap + (unmapSync ? 1 : 0), caches.invalidateCalls(), name + ": unmap invalidate");
            assertEquals(cleanAtUnmap, caches.cleanCalls(), name + ": an unmap never cleans");
            coherent.close();
        }
    }

    /** The case issue #17 names: made with SKIP_CPU_SYNC, unmapped plainly, the device's data must arrive. */
    @Test
    void skipAtMapThenPlainUnmapCopiesBack() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nic"));
            ByteBuffer rx = ByteBuffer.allocateDirect(512);
            DmaMapping mapping = device.map(rx, DmaDirection.FROM_DEVICE, DmaAttr.SKIP_CPU_SYNC);
            assertTrue(mapping.isBounced(), "plain direct memory is not DMA memory: it bounces");
            platform.busMaster(device, 32).write(mapping.dmaAddress(), WRITTEN);
            mapping.close();
            byte[] seen = new byte[WRITTEN.length];
            rx.get(0, seen);
            assertArrayEquals(WRITTEN, seen, "close() is dma_unmap_single() with no attributes: it copies back");
        }
    }

    /** dma_unmap_sg_attrs(): the list's attributes reach every segment. */
    @Test
    void scatterListUnmapTakesAttrsToo() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sg"));
            ByteBuffer a = ByteBuffer.allocateDirect(256);
            ByteBuffer b = ByteBuffer.allocateDirect(256);
            SimulatedBusMaster engine = platform.busMaster(device, 32);

            ScatterList synced = device.mapSg(List.of(a, b), DmaDirection.FROM_DEVICE, DmaAttr.SKIP_CPU_SYNC);
            engine.write(synced.segment(1).dmaAddress(), WRITTEN);
            synced.close();
            byte[] seen = new byte[WRITTEN.length];
            b.get(0, seen);
            assertArrayEquals(WRITTEN, seen, "close() of the list syncs each segment: the map's SKIP_CPU_SYNC does not carry over");

            ByteBuffer c = ByteBuffer.allocateDirect(256);
            ScatterList skipped = device.mapSg(List.of(c), DmaDirection.FROM_DEVICE);
            engine.write(skipped.segment(0).dmaAddress(), WRITTEN);
            skipped.closeWith(DmaAttr.SKIP_CPU_SYNC);
            c.get(0, seen);
            assertArrayEquals(new byte[WRITTEN.length], seen, "closeWith(SKIP_CPU_SYNC) skips the copy back");
            assertTrue(skipped.isUnmapped());
            assertEquals(0, platform.direct().swiotlb().usedSlots());
        }
    }
}
