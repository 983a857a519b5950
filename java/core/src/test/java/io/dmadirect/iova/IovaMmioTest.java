package io.dmadirect.iova;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaUsageException;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.IommuDomain;
import io.dmadirect.spi.IovaRange;
import io.dmadirect.spi.ZoneLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The IOVA-mode half of {@code dma_map_resource()}: MMIO (a BAR's CPU mapping) mapped at an IOVA that the same
 * allocator places within the device's limit, unmapped once, and unmapped by close if the driver left it.
 */
class IovaMmioTest {
    private static final long MiB = 1L << 20;
    private static final long GiB = 1L << 30;
    private static final long MASK_28 = (1L << 28) - 1;
    /** A CPU address such as a BAR's mmap: the simulated IOMMU only records it. */
    private static final long BAR_CPU = 0x7f12_3450_0000L;

    private static SimulatedMemory memory() {
        return new SimulatedMemory(2 * MiB, List.of(new long[] {64 * GiB, 64 * MiB}), 72 * GiB);
    }

    @Test
    void mmioIsMappedWithinTheLimitAndTranslatesToTheBarsCpuMapping() {
        SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
        try (IovaMemory memory = IovaMemory.map(memory(), iommu, ZoneLayout.DEFAULT, null)) {
            long iova = memory.mapMmio(BAR_CPU, 8192, MASK_28);
            assertTrue(iova >= IovaMemory.GUARD && iova + 8191 <= MASK_28, "within the 28-bit limit: " + Long.toHexString(iova));
            assertEquals(BAR_CPU + 4096, iommu.translate(iova + 4096, 16), "the IOMMU points at the BAR's mapping");
            assertTrue(memory.isMapped(iova), "the IOVA is taken from the allocator the memory uses");
            assertEquals(1, memory.mmioMappingCount());
            memory.unmapMmio(iova, 8192);
            assertEquals(0, iommu.translate(iova, 16), "unmapped from the IOMMU");
            assertFalse(memory.isMapped(iova));
            DmaUsageException twice = assertThrows(DmaUsageException.class, () -> memory.unmapMmio(iova, 8192));
            assertTrue(twice.getMessage().contains("not a live MMIO mapping"), twice.getMessage());
        }
    }

    @Test
    void unalignedOrEmptyRangesAreRefused() {
        try (IovaMemory memory = IovaMemory.map(memory(), SimulatedIommu.likeIntelIommu(), ZoneLayout.DEFAULT, null)) {
            assertThrows(IllegalArgumentException.class, () -> memory.mapMmio(BAR_CPU + 8, 4096, MASK_28));
            assertThrows(IllegalArgumentException.class, () -> memory.mapMmio(BAR_CPU, 100, MASK_28));
            assertThrows(IllegalArgumentException.class, () -> memory.mapMmio(BAR_CPU, 0, MASK_28));
            assertEquals(0, memory.mmioMappingCount());
        }
    }

    @Test
    void aLimitBelowEveryFreeIovaIsRefusedWithTheFreeRanges() {
        try (IovaMemory memory = IovaMemory.map(memory(), SimulatedIommu.likeIntelIommu(), ZoneLayout.DEFAULT, null)) {
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> memory.mapMmio(BAR_CPU, 4096, IovaMemory.GUARD - 1));
            assertTrue(e.getMessage().contains("no free IOVA range"), e.getMessage());
        }
    }

    @Test
    void anIommuThatRefusesTheRangeGivesItsErrorAndTheIovaBack() {
        SimulatedIommu inner = SimulatedIommu.likeIntelIommu();
        RefusingIommu iommu = new RefusingIommu(inner);
        try (IovaMemory memory = IovaMemory.map(memory(), iommu, ZoneLayout.DEFAULT, null)) {
            iommu.refuse = true;
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> memory.mapMmio(BAR_CPU, 4096, MASK_28));
            assertTrue(e.getMessage().contains("Bad address (errno 14)"), e.getMessage());
            iommu.refuse = false;
            long iova = memory.mapMmio(BAR_CPU, 4096, MASK_28);
            assertTrue(iova + 4095 <= MASK_28);
            assertEquals(1, memory.mmioMappingCount(), "the refused attempt left nothing behind");
        }
    }

    @Test
    void closeUnmapsWhatTheDriverLeftAndRefusesLaterMappings() {
        SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
        IovaMemory memory = IovaMemory.map(memory(), iommu, ZoneLayout.DEFAULT, null);
        long iova = memory.mapMmio(BAR_CPU, 4096, MASK_28);
        memory.close();
        assertEquals(0, iommu.translate(iova, 16), "close unmapped the MMIO");
        assertEquals(0, iommu.mappingCount(), "and everything else");
        assertThrows(DmaUsageException.class, () -> memory.mapMmio(BAR_CPU, 4096, MASK_28));
        DmaUsageException after = assertThrows(DmaUsageException.class, () -> memory.unmapMmio(iova, 4096));
        assertTrue(after.getMessage().contains("closed"), after.getMessage());
    }

    /** An IOMMU that refuses a map as iommufd refuses a PFNMAP range: with EFAULT. */
    private static final class RefusingIommu implements IommuDomain {
        private final SimulatedIommu inner;
        volatile boolean refuse;

        RefusingIommu(SimulatedIommu inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return "refusing";
        }

        @Override
        public List<IovaRange> validRanges() {
            return inner.validRanges();
        }

        @Override
        public long mappingsAvailable() {
            return inner.mappingsAvailable();
        }

        @Override
        public void map(long iova, long cpuAddress, long size) {
            if (refuse) {
                throw new IllegalStateException("failed to map IOVA: Bad address (errno 14)");
            }
            inner.map(iova, cpuAddress, size);
        }

        @Override
        public void unmap(long iova, long size) {
            inner.unmap(iova, size);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
