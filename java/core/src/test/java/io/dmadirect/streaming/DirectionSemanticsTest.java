package io.dmadirect.streaming;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.DmaRange;
import io.dmadirect.Sizes;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import io.dmadirect.spi.SwiotlbConfig;
import io.dmadirect.swiotlb.SwiotlbStats;
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
 * Who sees what, and when, for every direction, over the masks and memory maps of the coherent table.
 * A simulated DMA engine that drives only as many address lines as the mask reads and writes the
 * memory by DMA address, so a mapping beyond the mask corrupts data and fails the case.
 *
 * <p>Whether a mapping should bounce comes from an oracle written here from the rule of DESIGN §4, not
 * from the code under test: it is direct exactly when the memory is pinned DMA memory (a coherent
 * buffer's CPU view) whose DMA address range lies within {@code min(mask, bus limit)}.
 *
 * <p>For each case:
 * <ul>
 *   <li>TO_DEVICE: the device reads what the CPU wrote before the map; a later CPU write reaches a
 *       bounced device only after {@code syncForDevice}.</li>
 *   <li>FROM_DEVICE: what the device wrote reaches the CPU of a bounced mapping only after
 *       {@code syncForCpu}, and again only after unmap.</li>
 *   <li>BIDIRECTIONAL: both.</li>
 *   <li>With {@code min_align_mask} 4095, a bounced DMA address keeps the low 12 bits of the original.</li>
 *   <li>The bounce pool's byte counters move only at the copies the direction calls for, and the pool
 *       ends empty.</li>
 * </ul>
 */
class DirectionSemanticsTest {
    private static final int[] MASKS = {24, 28, 30, 32, 36, 40, 64};
    private static final int[] SIZES = {1, 333, 4096, 65_536, 200_000};
    private static final int[] OFFSETS = {0, 0x234};
    private static final int SPAN = 256 * 1024;
    private static final Map<MemoryMaps, SimulatedPlatform> PLATFORMS = new EnumMap<>(MemoryMaps.class);

    enum Kind {
        /** A coherent buffer's CPU view: pinned DMA memory. */
        COHERENT_VIEW,
        /** {@code ByteBuffer.allocateDirect}: off-heap, but not DMA memory. */
        ALLOCATE_DIRECT,
        /** A heap array. */
        HEAP_ARRAY
    }

    @AfterAll
    static void closePlatforms() {
        PLATFORMS.values().forEach(SimulatedPlatform::close);
    }

    @TestFactory
    Stream<DynamicNode> directionTable() {
        return Stream.of(MemoryMaps.values()).map(map -> DynamicContainer.dynamicContainer(map.name(),
                Stream.of(map).flatMap(DirectionSemanticsTest::maskCases)));
    }

    private static Stream<DynamicNode> maskCases(MemoryMaps map) {
        SimulatedPlatform platform = PLATFORMS.computeIfAbsent(map, m -> m.builder().atomicPools(0, 0)
                .bouncePool(SwiotlbConfig.defaults().withBytes(4 * MiB).withDynamicMax(8 * MiB)).build());
        List<DynamicNode> nodes = new ArrayList<>();
        for (int bits : MASKS) {
            nodes.add(DynamicTest.dynamicTest(bits + "-bit", () -> runMask(platform, map, bits)));
        }
        return nodes.stream();
    }

    private static void runMask(SimulatedPlatform platform, MemoryMaps map, int bits) {
        DmaDevice device = platform.attach(map.device("dir-" + map.name().toLowerCase() + "-" + bits));
        try {
            DmaMask mask = DmaMask.bits(bits);
            try {
                device.setDmaMask(mask);
            } catch (DmaMaskUnsupportedException e) {
                assertTrue(e.getMessage().contains(mask.toString()), e.getMessage());
                return;
            }
            // The coherent memory comes from anywhere the platform has it, so some of it lies beyond the
            // streaming mask: pinned memory the device cannot reach, which must bounce.
            device.setCoherentMask(DmaMask.BITS_64);
            DmaBuffer coherent = device.allocCoherent(SPAN + 8192);
            ByteBuffer offHeap = ByteBuffer.allocateDirect(SPAN + 8192);
            SimulatedBusMaster engine = platform.busMaster(device, bits);
            Oracle oracle = new Oracle(device.properties(), mask);
            Random random = new Random(bits * 7919L + map.ordinal());
            for (long minAlign : new long[] {0, 4095}) {
                device.setMinAlignMask(minAlign);
                for (Kind kind : Kind.values()) {
                    for (DmaDirection dir : new DmaDirection[] {DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE,
                        DmaDirection.BIDIRECTIONAL}) {
                        for (int size : SIZES) {
                            for (int offset : OFFSETS) {
                                if (size + (minAlign == 0 ? 0 : 4096) > Swiotlb.SEGMENT_BYTES && kind != Kind.COHERENT_VIEW) {
                                    continue;
                                }
                                Memory memory = Memory.of(kind, coherent, offHeap, offset, size);
                                String name = map + " " + bits + "-bit " + kind + " " + dir + " " + size + " B at +"
                                        + Sizes.hex(offset) + " min_align " + Sizes.hex(minAlign);
                                runCase(platform, device, engine, oracle, memory, dir, minAlign, random, name);
                            }
                        }
                    }
                }
            }
            coherent.close();
            assertEquals(0, platform.direct().swiotlb().usedSlots(), "the bounce pool ends empty");
        } finally {
            device.close();
        }
    }

    private static void runCase(SimulatedPlatform platform, DmaDevice device, SimulatedBusMaster engine, Oracle oracle,
            Memory memory, DmaDirection dir, long minAlign, Random random, String name) {
        Swiotlb tlb = platform.direct().swiotlb();
        int size = memory.size;
        byte[] a = pattern(random, size);
        byte[] b = pattern(random, size);
        byte[] c = pattern(random, size);
        memory.write(a);
        SwiotlbStats before = tlb.stats();

        DmaMapping mapping = memory.map(device, dir);
        boolean bounced = oracle.bounces(memory);
        assertEquals(bounced, mapping.isBounced(), name + ": direct or bounced");
        assertEquals(size, mapping.size());
        if (bounced && minAlign != 0) {
            assertEquals(memory.origLowBits() & minAlign, mapping.dmaAddress() & minAlign,
                    name + ": min_align_mask bits of " + Sizes.hex(mapping.dmaAddress()));
        }
        SwiotlbStats mapped = tlb.stats();
        assertEquals(before.bytesToDevice() + (bounced ? size : 0), mapped.bytesToDevice(),
                name + ": a bounced map copies the original in once, whatever the direction");
        assertEquals(before.bytesFromDevice(), mapped.bytesFromDevice(), name + ": nothing copied back at map");

        boolean toDevice = dir != DmaDirection.FROM_DEVICE;
        boolean fromDevice = dir != DmaDirection.TO_DEVICE;
        if (toDevice) {
            assertArrayEquals(a, read(engine, mapping, size), name + ": the device sees what the CPU wrote before map");
            memory.write(b);
            if (bounced) {
                assertArrayEquals(a, read(engine, mapping, size), name + ": a later CPU write is not seen before syncForDevice");
            }
            mapping.syncForDevice();
            assertArrayEquals(b, read(engine, mapping, size), name + ": the device sees it after syncForDevice");
        }
        if (fromDevice) {
            byte[] cpuBefore = memory.read();
            assertTrue(engine.write(mapping.dmaAddress(), c), name + ": device write faulted " + engine.faults());
            if (bounced) {
                assertArrayEquals(cpuBefore, memory.read(), name + ": the CPU does not see the device's write before syncForCpu");
            }
            long fromBefore = tlb.stats().bytesFromDevice();
            mapping.syncForCpu();
            assertArrayEquals(c, memory.read(), name + ": the CPU sees the device's write after syncForCpu");
            assertEquals(fromBefore + (bounced ? size : 0), tlb.stats().bytesFromDevice(), name + ": one copy back");
            assertTrue(engine.write(mapping.dmaAddress(), a), name + ": device write faulted " + engine.faults());
            if (bounced) {
                assertArrayEquals(c, memory.read(), name + ": not seen before unmap");
            }
        } else {
            long fromBefore = tlb.stats().bytesFromDevice();
            mapping.syncForCpu();
            assertEquals(fromBefore, tlb.stats().bytesFromDevice(), name + ": syncForCpu of TO_DEVICE copies nothing");
        }
        long fromBefore = tlb.stats().bytesFromDevice();
        mapping.close();
        assertTrue(mapping.isUnmapped());
        if (fromDevice) {
            assertArrayEquals(a, memory.read(), name + ": the CPU sees the device's last write after unmap");
            assertEquals(fromBefore + (bounced ? size : 0), tlb.stats().bytesFromDevice(), name + ": copied back at unmap");
        } else {
            assertArrayEquals(b, memory.read(), name + ": a TO_DEVICE unmap leaves the CPU's data alone");
            assertEquals(fromBefore, tlb.stats().bytesFromDevice(), name + ": TO_DEVICE unmap copies nothing back");
        }
        assertEquals(before.usedSlots(), tlb.usedSlots(), name + ": the slots are free again");
    }

    private static byte[] read(SimulatedBusMaster engine, DmaMapping mapping, int size) {
        byte[] seen = engine.read(mapping.dmaAddress(), size);
        assertNotNull(seen, "device read faulted: " + engine.faults());
        return seen;
    }

    private static byte[] pattern(Random random, int size) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }

    /** One piece of memory to map, with the CPU's way of reading and writing it. */
    static final class Memory {
        final Kind kind;
        final int size;
        final DmaBuffer coherent;
        final int offset;
        final ByteBuffer view;
        final byte[] array;

        private Memory(Kind kind, int size, DmaBuffer coherent, int offset, ByteBuffer view, byte[] array) {
            this.kind = kind;
            this.size = size;
            this.coherent = coherent;
            this.offset = offset;
            this.view = view;
            this.array = array;
        }

        static Memory of(Kind kind, DmaBuffer coherent, ByteBuffer offHeap, int offset, int size) {
            switch (kind) {
                case COHERENT_VIEW:
                    return new Memory(kind, size, coherent, offset, coherent.cpuView().slice(offset, size), null);
                case ALLOCATE_DIRECT:
                    return new Memory(kind, size, null, offset, offHeap.slice(offset, size), null);
                default:
                    return new Memory(kind, size, null, offset, null, new byte[offset + size + 17]);
            }
        }

        DmaMapping map(DmaDevice device, DmaDirection dir) {
            return array != null ? device.map(array, offset, size, dir) : device.map(view, dir);
        }

        void write(byte[] data) {
            if (array != null) {
                System.arraycopy(data, 0, array, offset, size);
            } else {
                view.put(0, data);
            }
        }

        byte[] read() {
            byte[] out = new byte[size];
            if (array != null) {
                System.arraycopy(array, offset, out, 0, size);
            } else {
                view.get(0, out);
            }
            return out;
        }

        long origLowBits() {
            switch (kind) {
                case COHERENT_VIEW:
                    return coherent.dmaAddress() + offset;
                case ALLOCATE_DIRECT:
                    return RawMemory.addressOf(view);
                default:
                    return offset;
            }
        }
    }

    /** DESIGN §4 from the outside: direct exactly for pinned memory wholly within min(mask, bus limit). */
    static final class Oracle {
        final long limit;

        Oracle(DeviceProperties props, DmaMask mask) {
            long bus = props.busDmaLimit();
            this.limit = bus == 0 || Long.compareUnsigned(mask.value(), bus) <= 0 ? mask.value() : bus;
        }

        boolean bounces(Memory memory) {
            if (memory.kind != Kind.COHERENT_VIEW) {
                return true;
            }
            long last = memory.coherent.dmaAddress() + memory.offset + memory.size - 1;
            return Long.compareUnsigned(last, limit) > 0;
        }
    }

    static {
        // The oracle assumes dma-range offsets keep the low bits, as every real dma-ranges entry does.
        for (MemoryMaps map : MemoryMaps.values()) {
            for (DmaRange range : map.device("x").dmaRanges()) {
                if ((range.offset() & (4 * KiB - 1)) != 0) {
                    throw new AssertionError("dma-range offset not page-aligned in " + map);
                }
            }
        }
    }
}
