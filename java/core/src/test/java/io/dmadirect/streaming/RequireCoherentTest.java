package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code DMA_ATTR_REQUIRE_COHERENT} (Linux 7.1), from the kernel's rules alone: a mapping that would bounce or need
 * cache maintenance fails with a mapping error, through every map call; one the device takes as it is maps as
 * without the attribute. A refusal leaves nothing mapped. Each row is run once without the attribute too, so a
 * row cannot pass by refusing everything.
 */
class RequireCoherentTest {
    private static final int REQUIRE = DmaAttr.flags(DmaAttr.REQUIRE_COHERENT);

    /** What is mapped, on which device, and whether the kernel maps it directly. */
    private record Row(String name, boolean coherentDevice, DmaMask mask, Memory memory, boolean direct) {
    }

    /** Where the memory lies: DMA memory at 8 GiB (the coherent allocation of a 64-bit device), or the heap. */
    private enum Memory {
        HIGH_DMA_MEMORY, HEAP
    }

    /** The map calls, each returning the DMA address and leaving one mapping to undo. */
    private enum Call {
        OBJECT_MAP, PRIMITIVE_MAP_SINGLE, OBJECT_MAP_SG, PRIMITIVE_MAP_SG
    }

    private static final List<Row> ROWS = List.of(
            new Row("coherent 64-bit device, DMA memory: direct", true, DmaMask.BITS_64, Memory.HIGH_DMA_MEMORY, true),
            new Row("coherent 64-bit device, heap memory: bounce", true, DmaMask.BITS_64, Memory.HEAP, false),
            new Row("coherent 32-bit device, memory above 4 GiB: bounce", true, DmaMask.BITS_32, Memory.HIGH_DMA_MEMORY, false),
            new Row("non-coherent 64-bit device, DMA memory: cache maintenance", false, DmaMask.BITS_64,
                    Memory.HIGH_DMA_MEMORY, false));

    @TestFactory
    Stream<DynamicTest> aMappingThatWouldBounceOrNeedCacheMaintenanceFails() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Row row : ROWS) {
            for (Call call : Call.values()) {
                tests.add(dynamicTest(row.name() + ", " + call, () -> run(row, call)));
            }
        }
        return tests.stream();
    }

    private static void run(Row row, Call call) {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice owner = platform.attach(DeviceProperties.simple("owner"));
            owner.setMaskAndCoherent(DmaMask.BITS_64);
            DmaDevice device = platform.attach(DeviceProperties.simple("dev").withCoherent(row.coherentDevice()));
            device.setMaskAndCoherent(row.mask());
            // Fill DMA32 first so the 64-bit owner's buffer lands above 4 GiB.
            DmaBuffer low = owner.allocCoherent(60 * MiB, DmaAttr.SKIP_ZEROING);
            DmaBuffer memory = owner.allocCoherent(64 * 1024);
            assertTrue(memory.dmaAddress() >= 4L << 30, "the buffer must lie above 4 GiB for the 32-bit row");
            ByteBuffer buffer = row.memory() == Memory.HEAP ? ByteBuffer.allocate(4096) : memory.cpuView().limit(4096);

            long without = map(device, call, buffer, 0);
            assertEquals(0, usedSlots(platform), "without the attribute everything was unmapped again");
            assertTrue(without != 0, "the mapping without the attribute succeeds: " + row.name());
            if (row.direct()) {
                long with = map(device, call, buffer, REQUIRE);
                assertEquals(without, with, "a direct mapping is the same with the attribute");
            } else {
                DmaMappingException e = assertThrows(DmaMappingException.class, () -> map(device, call, buffer, REQUIRE));
                assertTrue(e.getMessage().contains("DMA_ATTR_REQUIRE_COHERENT"), e.getMessage());
            }
            assertEquals(0, usedSlots(platform), "a refusal leaves no bounce slot taken");
            memory.close();
            low.close();
        }
    }

    /** Maps with the call, unmaps at once, and returns the DMA address the map gave. */
    private static long map(DmaDevice device, Call call, ByteBuffer buffer, int attrs) {
        DmaAttr[] objectAttrs = attrs == 0 ? new DmaAttr[0] : new DmaAttr[] {DmaAttr.REQUIRE_COHERENT};
        switch (call) {
            case OBJECT_MAP -> {
                try (DmaMapping m = device.map(buffer.duplicate(), DmaDirection.TO_DEVICE, objectAttrs)) {
                    return m.dmaAddress();
                }
            }
            case PRIMITIVE_MAP_SINGLE -> {
                long dma = device.mapSingle(buffer, 0, buffer.limit(), DmaDirection.TO_DEVICE, attrs);
                device.unmapSingle(dma, buffer.limit(), DmaDirection.TO_DEVICE, attrs);
                return dma;
            }
            case OBJECT_MAP_SG -> {
                try (ScatterList sg = device.mapSg(List.of(buffer.duplicate()), DmaDirection.TO_DEVICE, objectAttrs)) {
                    return sg.segments().get(0).dmaAddress();
                }
            }
            case PRIMITIVE_MAP_SG -> {
                long[] out = new long[1];
                device.mapSg(new ByteBuffer[] {buffer.duplicate()}, 1, DmaDirection.TO_DEVICE, attrs, out);
                device.unmapSg(out, new int[] {buffer.limit()}, 1, DmaDirection.TO_DEVICE, attrs);
                return out[0];
            }
            default -> throw new AssertionError(call);
        }
    }

    @Test
    void aScatterListWithOneBouncingSegmentLeavesNothingMapped() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sg"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer memory = device.allocCoherent(8192);
            ByteBuffer[] list = {memory.cpuView().limit(4096), ByteBuffer.allocate(512)};
            long[] out = new long[2];
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> device.mapSg(list, 2, DmaDirection.FROM_DEVICE, REQUIRE, out));
            assertTrue(e.getMessage().contains("segment 1"), e.getMessage());
            assertEquals(0, usedSlots(platform));
            assertEquals(2, device.mapSg(list, 2, DmaDirection.FROM_DEVICE, 0, out), "without it, the second bounces");
            device.unmapSg(out, new int[] {4096, 512}, 2, DmaDirection.FROM_DEVICE, 0);
            memory.close();
        }
    }

    @Test
    void ignoreCachelinesChangesNoMapping() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nc").withCoherent(false));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            ByteBuffer heap = ByteBuffer.allocate(100);
            int ignore = DmaAttr.flags(DmaAttr.DEBUGGING_IGNORE_CACHELINES);
            long dma = device.mapSingle(heap, 0, 100, DmaDirection.FROM_DEVICE, ignore);
            assertTrue(usedSlots(platform) > 0, "still a bounce: only dma-debug reads the attribute");
            device.unmapSingle(dma, 100, DmaDirection.FROM_DEVICE, ignore);
            assertEquals(0, usedSlots(platform));
        }
    }

    private static long usedSlots(SimulatedPlatform platform) {
        return platform.direct().swiotlb().usedSlots();
    }

}
