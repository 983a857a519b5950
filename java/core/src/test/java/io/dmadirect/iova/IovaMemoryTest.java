package io.dmadirect.iova;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.spi.PhysicalMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The IOVA layout: tiers for every zone, the guard below 4 MiB, large chunks, and clean unmapping. */
class IovaMemoryTest {
    private static final long MiB = 1L << 20;
    private static final long GiB = 1L << 30;

    @Test
    void everyZoneGetsMemoryAndTheGuardStaysUnmapped() {
        SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
        // Physical addresses far above any mask: IOVA mode never uses them.
        SimulatedMemory source = new SimulatedMemory(2 * MiB, List.of(new long[] {64 * GiB, 128 * MiB}), 72 * GiB);
        try (IovaMemory memory = IovaMemory.map(source, iommu, ZoneLayout.DEFAULT, null)) {
            long dma = 0;
            long dma32 = 0;
            long high = 0;
            for (MemoryRun r : memory.runs()) {
                assertTrue(r.frameBase() >= IovaMemory.GUARD, "nothing below the guard: " + r);
                assertEquals(0, r.frameBase() % (2 * MiB), "frame-aligned IOVA: " + r);
                assertFalse(r.frameBase() <= 0xfeefffffL && r.frameBase() + r.size() > 0xfee00000L, "MSI window: " + r);
                if (r.frameBase() + r.size() <= 16 * MiB) {
                    dma += r.size();
                } else if (r.frameBase() + r.size() <= 4 * GiB) {
                    dma32 += r.size();
                } else {
                    high += r.size();
                }
            }
            assertEquals(8 * MiB, dma, "ZONE_DMA tier");
            assertEquals(60 * MiB, dma32, "ZONE_DMA32 tier: half the rest, from 16 MiB");
            assertEquals(60 * MiB, high, "ZONE_NORMAL tier");
            assertEquals(3, iommu.mappingCount(), "one chunk per tier");
            assertFalse(memory.isMapped(0x100000));
            assertTrue(memory.isMapped(16 * MiB), "DMA32 starts at 16 MiB, low for 28-bit devices");
            // The device and the CPU see the same bytes.
            MemoryRun run = memory.runs().get(0);
            run.cpuView(4096, 8).putLong(0, 0x1122334455667788L);
            long cpu = iommu.translate(run.frameBase() + 4096, 8);
            assertEquals(run.cpuAddress() + 4096, cpu);
        }
        assertEquals(0, iommu.mappingCount(), "close unmaps everything");
        assertTrue(source.isClosed());
    }

    @Test
    void sixtyFourGiBOfFragmentedHugepagesTakeAHandfulOfMappings() {
        // 32768 hugepages, physically scattered (one run each), but adjacent in the CPU's view as one
        // memfd mapping is: joined into chunks, they need far fewer than 65535 mappings.
        List<MemoryRun> runs = new ArrayList<>();
        for (int i = 0; i < 32768; i++) {
            runs.add(new FakeRun((long) (32768 - i) * 4 * MiB, 0x7f00_0000_0000L + i * 2 * MiB));
        }
        SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
        try (IovaMemory memory = IovaMemory.map(new FakeMemory(runs), iommu, ZoneLayout.DEFAULT,
                (address, length) -> ByteBuffer.allocate(length))) {
            assertEquals(64 * GiB, memory.mappedBytes());
            assertTrue(iommu.mappingCount() <= 16, "mappings: " + iommu.mappingCount());
        }
    }

    @Test
    void tooManyMappingsIsAClearError() {
        SimulatedIommu iommu = new SimulatedIommu(SimulatedIommu.likeIntelIommu().validRanges(), 2);
        SimulatedMemory source = new SimulatedMemory(2 * MiB, List.of(new long[] {0, 64 * MiB}), 64 * MiB);
        DmaAllocationException e = assertThrows(DmaAllocationException.class,
                () -> IovaMemory.map(source, iommu, ZoneLayout.DEFAULT, null));
        assertTrue(e.getMessage().contains("dma_entry_limit"), e.getMessage());
    }

    private record FakeRun(long frameBase, long cpuAddress) implements MemoryRun {
        @Override
        public long size() {
            return 2 * MiB;
        }

        @Override
        public ByteBuffer cpuView(long offset, int length) {
            return ByteBuffer.allocate(length);
        }
    }

    private record FakeMemory(List<MemoryRun> runs) implements PhysicalMemory {
        @Override
        public long frameSize() {
            return 2 * MiB;
        }

        @Override
        public long systemMaxPhysAddress() {
            return 256 * GiB;
        }

        @Override
        public void close() {
        }
    }
}
