package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.DmaRange;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.testing.MemoryMaps;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The coherent-allocation policy crossed over masks, memory maps, sizes and attributes. The expected
 * outcome of each case comes from an oracle written here from the kernel's rules, not from the code
 * under test: a case must succeed exactly when some memory of the map lies wholly within
 * {@code min(mask, bus limit)} as the device addresses it, and is contiguous enough for the size.
 *
 * <p>Each case asserts the zone and path, that the DMA address is within the limit, that bytes a
 * device writes at the DMA address appear in the CPU view, and, where nothing fits, that the message
 * names the mask, the size and each zone's free memory.
 */
class CoherentAllocationTableTest {
    private static final int[] MASKS = {24, 28, 30, 32, 36, 40, 64};
    private static final long FRAME = 2 * MiB;
    private static final long[] SIZES = {1, 100, 4096, 4097, 64 * 1024, MiB, FRAME, FRAME + 1, 8 * MiB, 64 * MiB};
    private static final DmaAttr[][] ATTRS = {{}, {DmaAttr.ATOMIC}, {DmaAttr.NO_KERNEL_MAPPING}, {DmaAttr.NO_WARN},
        {DmaAttr.SKIP_CPU_SYNC}, {DmaAttr.SKIP_ZEROING}};
    private static final Map<MemoryMaps, SimulatedPlatform> PLATFORMS = new EnumMap<>(MemoryMaps.class);

    @AfterAll
    static void closePlatforms() {
        PLATFORMS.values().forEach(SimulatedPlatform::close);
    }

    @TestFactory
    Stream<DynamicNode> allocationTable() {
        return Stream.of(MemoryMaps.values()).map(map -> DynamicContainer.dynamicContainer(map.name(),
                Stream.of(map).flatMap(CoherentAllocationTableTest::maskCases)));
    }

    /** Built lazily, when JUnit reaches the map, so only one map's platform is being filled at a time. */
    private static Stream<DynamicNode> maskCases(MemoryMaps map) {
        SimulatedPlatform platform = PLATFORMS.computeIfAbsent(map, m -> m.builder().atomicPools(0, 0).build());
        DmaDevice device = platform.attach(map.device("table-" + map.name().toLowerCase()));
        MemoryStats before = platform.memoryStats();
        List<DynamicNode> nodes = new ArrayList<>();
        for (int bits : MASKS) {
            List<DynamicNode> cases = new ArrayList<>();
            for (long size : SIZES) {
                for (DmaAttr[] attrs : ATTRS) {
                    String name = Sizes.format(size) + (attrs.length == 0 ? "" : " " + attrs[0]);
                    cases.add(DynamicTest.dynamicTest(name, () -> runCase(platform, device, bits, size, attrs)));
                }
            }
            nodes.add(DynamicContainer.dynamicContainer(bits + "-bit", cases));
        }
        nodes.add(DynamicTest.dynamicTest("memory returns to where it started", () -> {
            platform.drainThreadCaches();
            assertEquals(before, platform.memoryStats());
        }));
        return nodes.stream();
    }

    private static void runCase(SimulatedPlatform platform, DmaDevice device, int bits, long size, DmaAttr[] attrs) {
        DmaMask mask = DmaMask.bits(bits);
        DeviceProperties props = device.properties();
        Oracle oracle = new Oracle(platform, props, mask);
        if (!oracle.maskSupported()) {
            DmaMaskUnsupportedException e = assertThrows(DmaMaskUnsupportedException.class,
                    () -> device.setMaskAndCoherent(mask));
            assertTrue(e.getMessage().contains(mask.toString()), e.getMessage());
            return;
        }
        device.setMaskAndCoherent(mask);
        boolean fits = oracle.fits(size);
        if (!fits) {
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(size, attrs),
                    "the oracle finds no memory within " + oracle.limitText() + " for " + size + " bytes");
            String message = e.getMessage();
            assertTrue(message.contains(mask.toString()), "names the mask: " + message);
            assertTrue(message.contains(Sizes.format(size)), "names the size: " + message);
            for (Zone zone : Zone.values()) {
                assertTrue(message.contains(zone + " ") && message.contains("free of"), "names " + zone + ": " + message);
            }
            return;
        }
        DmaBuffer buffer = device.allocCoherent(size, attrs);
        try {
            checkPlacement(platform, props, mask, oracle, size, buffer);
            checkData(platform, device, bits, size, attrs, buffer);
        } finally {
            buffer.close();
        }
    }

    private static void checkPlacement(SimulatedPlatform platform, DeviceProperties props, DmaMask mask, Oracle oracle,
            long size, DmaBuffer buffer) {
        long dma = buffer.dmaAddress();
        long last = dma + size - 1;
        assertTrue(Long.compareUnsigned(last, oracle.limit) <= 0,
                String.format("DMA 0x%x + %d bytes exceeds the limit %s", dma, size, oracle.limitText()));
        long phys = Oracle.dmaToPhys(props, dma);
        ZoneLayout layout = new ZoneLayout(platform.zoneDmaBits());
        assertEquals(layout.zoneOf(phys), buffer.zone(), "the zone must match the address " + Sizes.hex(phys));
        assertTrue(buffer.zone().ordinal() <= oracle.optimalZone().ordinal(),
                "never above the optimal zone " + oracle.optimalZone() + ": " + buffer.report());
        assertEquals(oracle.optimalZone(), buffer.report().optimalZone());
        AllocationPath expected = size > FRAME ? AllocationPath.CONTIGUOUS : AllocationPath.PAGES;
        assertEquals(expected, buffer.path(), buffer.report().toString());
        assertTrue(buffer.allocatedSize() >= size && buffer.allocatedSize() % 4096 == 0);
    }

    private static void checkData(SimulatedPlatform platform, DmaDevice device, int bits, long size, DmaAttr[] attrs,
            DmaBuffer buffer) {
        SimulatedBusMaster engine = platform.busMaster(device, bits);
        boolean noMapping = attrs.length > 0 && attrs[0] == DmaAttr.NO_KERNEL_MAPPING;
        if (noMapping) {
            assertFalse(buffer.hasCpuView());
            assertThrows(DmaUsageException.class, buffer::cpuView);
            assertTrue(engine.write(buffer.dmaAddress(), new byte[(int) Math.min(size, 4096)]), "device reaches it");
            return;
        }
        ByteBuffer view = buffer.cpuView();
        assertEquals(size, view.capacity());
        boolean zeroed = !(attrs.length > 0 && attrs[0] == DmaAttr.SKIP_ZEROING);
        Random random = new Random(size * 31 + bits);
        long[] offsets = probeOffsets(size);
        if (zeroed) {
            for (long offset : offsets) {
                int length = (int) Math.min(4096, size - offset);
                for (int i = 0; i < length; i++) {
                    assertEquals(0, view.get((int) offset + i), "coherent memory starts zeroed, byte " + (offset + i));
                }
            }
        }
        for (long offset : offsets) {
            int length = (int) Math.min(4096, size - offset);
            byte[] pattern = new byte[length];
            random.nextBytes(pattern);
            assertTrue(engine.write(buffer.dmaAddress() + offset, pattern), "device write faulted: " + engine.faults());
            byte[] seen = new byte[length];
            view.get((int) offset, seen);
            if (!java.util.Arrays.equals(pattern, seen)) {
                fail("bytes the device wrote at DMA " + Sizes.hex(buffer.dmaAddress() + offset)
                        + " are not what the CPU reads: " + buffer.report());
            }
        }
    }

    private static long[] probeOffsets(long size) {
        if (size <= 4096) {
            return new long[] {0};
        }
        return java.util.stream.LongStream.of(0, (size / 2) & -4096L, size - 4096).distinct().toArray();
    }

    /** What the kernel's rules say should happen, computed from the memory map alone. */
    static final class Oracle {
        final long limit;
        private final SimulatedPlatform platform;
        private final DeviceProperties props;
        private final DmaMask mask;

        Oracle(SimulatedPlatform platform, DeviceProperties props, DmaMask mask) {
            this.platform = platform;
            this.props = props;
            this.mask = mask;
            this.limit = props.busDmaLimit() == 0 || Long.compareUnsigned(mask.value(), props.busDmaLimit()) <= 0
                    ? mask.value() : props.busDmaLimit();
        }

        String limitText() {
            return Sizes.hex(limit);
        }

        /** dma_direct_supported against the lowest frame held. */
        boolean maskSupported() {
            long lowestEnd = -1L;
            for (MemoryRun run : platform.memory().runs()) {
                long end = physToDma(props, run.frameBase() + FRAME - 1);
                if (Long.compareUnsigned(end, lowestEnd) < 0) {
                    lowestEnd = end;
                }
            }
            return Long.compareUnsigned(mask.value(), lowestEnd) >= 0;
        }

        /** The zone the physical limit falls in (dma_direct_optimal_gfp_mask). */
        Zone optimalZone() {
            long physLimit = dmaToPhys(props, limit);
            if (Long.compareUnsigned(physLimit, (1L << 24) - 1) <= 0) {
                return Zone.DMA;
            }
            return Long.compareUnsigned(physLimit, 0xffff_ffffL) <= 0 ? Zone.DMA32 : Zone.NORMAL;
        }

        /** Whether enough frames in a row, all within reach and in the optimal zone or below, exist. */
        boolean fits(long size) {
            long aligned = (size + 4095) & -4096L;
            long framesNeeded = (aligned + FRAME - 1) / FRAME;
            long zoneTop = new ZoneLayout(24).limit(optimalZone());
            for (MemoryRun run : platform.memory().runs()) {
                long inRow = 0;
                for (long offset = 0; offset < run.size(); offset += FRAME) {
                    long phys = run.frameBase() + offset;
                    long dmaEnd = physToDma(props, phys + FRAME - 1);
                    boolean reachable = dmaEnd != -1L && Long.compareUnsigned(dmaEnd, limit) <= 0
                            && Long.compareUnsigned(phys + FRAME - 1, zoneTop) <= 0;
                    inRow = reachable ? inRow + 1 : 0;
                    if (inRow >= framesNeeded) {
                        return true;
                    }
                }
            }
            return false;
        }

        static long physToDma(DeviceProperties props, long phys) {
            if (props.dmaRanges().isEmpty()) {
                return phys;
            }
            for (DmaRange range : props.dmaRanges()) {
                if (phys >= range.cpuStart() && phys - range.cpuStart() < range.size()) {
                    return phys + range.offset();
                }
            }
            return -1L;
        }

        static long dmaToPhys(DeviceProperties props, long dma) {
            if (props.dmaRanges().isEmpty()) {
                return dma;
            }
            for (DmaRange range : props.dmaRanges()) {
                if (Long.compareUnsigned(dma, range.dmaStart()) >= 0 && Long.compareUnsigned(dma - range.dmaStart(), range.size()) < 0) {
                    return dma - range.offset();
                }
            }
            return -1L;
        }
    }

    @org.junit.jupiter.api.Test
    void oracleSeesTheMapsAsDescribed() {
        // Guard the oracle itself: if it always said "fits" or never did, the table would prove nothing.
        SimulatedPlatform platform = PLATFORMS.computeIfAbsent(MemoryMaps.ONLY_16M_LOW,
                m -> m.builder().atomicPools(0, 0).build());
        DeviceProperties props = MemoryMaps.ONLY_16M_LOW.device("oracle");
        assertTrue(new Oracle(platform, props, DmaMask.bits(24)).fits(8 * MiB));
        assertFalse(new Oracle(platform, props, DmaMask.bits(24)).fits(64 * MiB));
        assertTrue(new Oracle(platform, props, DmaMask.bits(64)).fits(64 * MiB));
        assertNotNull(new Oracle(platform, props, DmaMask.bits(32)).optimalZone());
        assertEquals(Zone.DMA32, new Oracle(platform, props, DmaMask.bits(32)).optimalZone());
    }
}
