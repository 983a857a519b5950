package io.dmadirect.swiotlb;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaMask;
import io.dmadirect.direct.DeviceDma;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.MemoryEncryption;
import io.dmadirect.spi.SwiotlbConfig;
import io.dmadirect.spi.ZoneLayout;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Where a bounce buffer goes, row by row from the kernel's rules alone (kernel/dma/swiotlb.c as of mainline
 * 6.10 and later: {@code swiotlb_tbl_map_single()}, {@code swiotlb_align_offset()},
 * {@code swiotlb_search_pool_area()}, {@code swiotlb_release_slots()}, {@code swiotlb_max_mapping_size()},
 * {@code swiotlb_alloc()}; {@code iommu_is_span_boundary()}). Each row names the rule it checks.
 *
 * <p>Each row runs on a fresh pool of one area whose first slot is 2 MiB-aligned. {@code prefill} slots are
 * taken first from slot 0, so the search of the row's mapping starts at slot {@code prefill}: that is how a
 * row shows which slots a rule skips.
 */
class SwiotlbPlacementTableTest {
    private static final long NONE = -2;
    private static final long PAGE = 4 * KiB;
    private static final long NO_BOUNDARY = Swiotlb.NO_SEG_BOUNDARY;

    private SimulatedMemory memory;
    private PageAllocator pages;

    /**
     * @param firstSlot the slot the run must start at (counted from the pool's first), or {@link #NONE} when the
     *                  mapping must fail
     * @param low       the bounce address's bits under 0xffff
     * @param pad       padding slots in front of the mapping
     * @param run       the run's slots, padding included
     */
    record Row(String rule, int prefill, long orig, long size, long minAlign, long allocAlign, long boundary,
            long firstSlot, long low, int pad, int run) {
        @Override
        public String toString() {
            return rule;
        }
    }

    static Stream<Row> rows() {
        return Stream.of(
                // swiotlb_search_pool_area(): "if (!alloc_align_mask && !iotlb_align_mask && alloc_size >= PAGE_SIZE)
                // alloc_align_mask = PAGE_SIZE - 1" (6.9, "swiotlb: Reinstate page-alignment for mappings >= PAGE_SIZE")
                new Row("6.9: a page or more with no masks is page-aligned, slot 1 skipped", 1, 0x800, PAGE, 0, 0,
                        NO_BOUNDARY, 2, 0x1000, 0, 2),
                new Row("6.9: the original's place in its page is not kept without min_align_mask", 0, 0x1800, 3 * PAGE,
                        0, 0, NO_BOUNDARY, 0, 0, 0, 6),
                new Row("6.9: under a page only slot alignment", 1, 0x800, 2 * KiB, 0, 0, NO_BOUNDARY, 1, 0x800, 0, 1),
                new Row("6.9: min_align_mask set, so no page alignment: slot 1 taken", 1, 0x800, PAGE, 0x7ff, 0,
                        NO_BOUNDARY, 1, 0x800, 0, 2),
                new Row("6.9: alloc_align_mask set, it alone aligns the start", 1, 0x800, PAGE, 0, 0x7ff, NO_BOUNDARY,
                        1, 0x800, 0, 2),
                // alloc_align_mask: "(tlb_addr & alloc_align_mask)" must be zero; the original is not compared
                new Row("alloc_align_mask: zero bits under it, not the original's", 1, 0x5123, 100, 0, 0xffff,
                        NO_BOUNDARY, 32, 0, 0, 32),
                new Row("alloc_align_mask 8 KiB: slots 1-3 skipped", 1, 0x1800, 100, 0, 0x1fff, NO_BOUNDARY, 4,
                        0x2000, 0, 4),
                // swiotlb_tbl_map_single(): "size = ALIGN(mapping_size + offset, alloc_align_mask + 1)"
                new Row("rounding: 5000 bytes under alloc_align_mask 8 KiB take 8 KiB", 0, 0, 5000, 0, 0x1fff,
                        NO_BOUNDARY, 0, 0, 0, 4),
                new Row("rounding: none without alloc_align_mask (3 slots for 5000 bytes)", 0, 0, 5000, 0, 0,
                        NO_BOUNDARY, 0, 0, 0, 3),
                // swiotlb_align_offset(): "addr & dma_get_min_align_mask(dev) & (align_mask | (IO_TLB_SIZE - 1))"
                new Row("min_align_mask under a slot: the offset inside the first slot", 0, 0x1234, 3000, 0xfff, 0,
                        NO_BOUNDARY, 0, 0x234, 0, 2),
                new Row("min_align_mask above a slot: the slot is chosen by the original's bit 11", 0, 0x1a34, 3000,
                        0xfff, 0, NO_BOUNDARY, 1, 0xa34, 0, 2),
                new Row("departure: orig 0 (a heap array's offset 0) is compared, the kernel's \"orig_addr &&\" skip is "
                        + "for swiotlb_alloc only", 1, 0, 3000, 0xfff, 0, NO_BOUNDARY, 2, 0x1000, 0, 2),
                // pad_slots: "pad_slots = offset >> IO_TLB_SHIFT; index += pad_slots"
                new Row("pad_slots: min_align_mask bits under alloc_align_mask above a slot become padding", 1, 0x1a34,
                        3000, 0xfff, 0xfff, NO_BOUNDARY, 2, 0x1a34 & 0xfff | 0x1000, 1, 4),
                new Row("pad_slots: three padding slots for a 2 KiB-slot offset 0x1e00 under 8 KiB", 0, 0x1e00, 100,
                        0x1fff, 0x1fff, NO_BOUNDARY, 0, 0x1e00, 3, 4),
                // iommu_is_span_boundary(): no run spans a multiple of dma_get_seg_boundary() + 1
                new Row("segment boundary 64 KiB: a 4-slot run at slot 30 would cross, slot 32 is taken", 30, 0, 8 * KiB,
                        0, 0, 0xffff, 32, 0, 0, 4),
                new Row("no segment boundary: the same run goes at slot 30", 30, 0, 8 * KiB, 0, 0, NO_BOUNDARY, 30,
                        0xf000, 0, 4),
                new Row("segment boundary 4 KiB: no 3-slot run fits anywhere", 0, 0, 5000, 0, 0x7ff, 0xfff, NONE, 0, 0,
                        0),
                // swiotlb_max_mapping_size(): one segment less roundup(min_align_mask, IO_TLB_SIZE)
                new Row("max_mapping_size with min_align_mask 4 KiB fits whatever the original's offset", 0, 0xfff,
                        Swiotlb.maxMappingSize(0xfff), 0xfff, 0, NO_BOUNDARY, 1, 0xfff, 0, 127),
                new Row("a whole segment plus a kept offset does not fit", 0, 0x10, Swiotlb.SEGMENT_BYTES, 0xfff, 0,
                        NO_BOUNDARY, NONE, 0, 0, 0),
                new Row("rounded past a segment does not fit", 0, 0, 100, 0, Swiotlb.SEGMENT_BYTES * 2 - 1,
                        NO_BOUNDARY, NONE, 0, 0, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void row(Row row) {
        Swiotlb tlb = pool();
        long first = slotZero(tlb);
        if (row.prefill() > 0) {
            assertNotEquals(Swiotlb.NONE, tlb.mapSingle(0, (long) row.prefill() * Swiotlb.SLOT_SIZE, 0, 0, -1L, false));
        }
        long h = tlb.mapSingle(row.orig(), row.size(), row.minAlign(), row.allocAlign(), row.boundary(), -1L, false, null);
        if (row.firstSlot() == NONE) {
            assertEquals(Swiotlb.NONE, h, "must not fit");
            return;
        }
        assertNotEquals(Swiotlb.NONE, h, "must fit");
        long addr = tlb.physAddress(h);
        long runStart = (addr & -(long) Swiotlb.SLOT_SIZE) - (long) tlb.padSlots(h) * Swiotlb.SLOT_SIZE;
        assertEquals(row.firstSlot(), (runStart - first) / Swiotlb.SLOT_SIZE, "first slot of the run");
        assertEquals(row.low(), addr & 0xffff, "bounce address bits under 0xffff: 0x" + Long.toHexString(addr));
        assertEquals(row.pad(), tlb.padSlots(h), "pad_slots");
        assertEquals(row.run(), Swiotlb.runSlots(h), "slots of the run");
        long used = tlb.usedSlots();
        tlb.release(h);
        assertEquals(used - row.run(), tlb.usedSlots(), "swiotlb_release_slots frees the padding slots too");
    }

    @Test
    void releaseOfAPaddedMappingLeavesWholeSegments() {
        Swiotlb tlb = pool();
        long h = tlb.mapSingle(0x1e00, 100, 0x1fff, 0x1fff, NO_BOUNDARY, -1L, false, null);
        assertEquals(3, tlb.padSlots(h));
        assertEquals(4, tlb.usedSlots());
        tlb.release(h);
        assertEquals(0, tlb.usedSlots());
        assertThrows(IllegalStateException.class, () -> tlb.release(h), "a second release is caught");
        for (int segment = 0; segment < 8; segment++) {
            assertNotEquals(Swiotlb.NONE, tlb.mapSingle(0, Swiotlb.SEGMENT_BYTES, 0, 0, -1L, false),
                    "segment " + segment + " of 8 whole again: the three padding slots were freed");
        }
    }

    @Test
    void capacityIsTheMappedSlotsLessThePaddingAndTheOffset() {
        Swiotlb tlb = pool();
        long h = tlb.mapSingle(0x1a34, 3000, 0xfff, 0xfff, NO_BOUNDARY, -1L, false, null);
        // run 4 slots (ALIGN(3000 + 0xa34, 4 KiB) = 8 KiB), 1 padding slot, 0x234 into the first mapped slot
        assertEquals(3L * Swiotlb.SLOT_SIZE - 0x234, tlb.capacity(h));
        tlb.release(h);
    }

    /** {@code swiotlb_alloc()}: aligned to {@code get_order(size)} pages, the size not rounded. */
    @Test
    void restrictedPoolAllocationIsAlignedToItsOrder() {
        Swiotlb tlb = pool();
        long first = slotZero(tlb);
        tlb.mapSingle(0, 2 * KiB, 0, 0, -1L, false);
        long h = tlb.alloc(12 * KiB, NO_BOUNDARY, false);
        assertEquals(0, tlb.physAddress(h) & (16 * KiB - 1), "get_order(12 KiB) = 2: 16 KiB-aligned");
        assertEquals(8, (tlb.physAddress(h) - first) / Swiotlb.SLOT_SIZE, "slots 1-7 skipped");
        assertEquals(6, Swiotlb.runSlots(h), "12 KiB is 6 slots, not rounded to 16 KiB");
        tlb.release(h);
        long small = tlb.alloc(100, NO_BOUNDARY, false);
        assertEquals(0, tlb.physAddress(small) & (PAGE - 1), "even a small allocation is page-aligned");
        tlb.release(small);
    }

    @Test
    void masksThatAreNotLowBitsAreRefused() {
        Swiotlb tlb = pool();
        assertThrows(IllegalArgumentException.class, () -> tlb.mapSingle(0, 100, 0, 0x1000, NO_BOUNDARY, -1L, false, null));
        assertThrows(IllegalArgumentException.class, () -> tlb.mapSingle(0, 100, 0, 0, 0x1_0000, -1L, false, null));
    }

    @Test
    void theBoundaryIsCheckedOnDmaAddresses() {
        Swiotlb tlb = pool();
        long first = slotZero(tlb);
        // A device that sees the pool 16 KiB lower: the 64 KiB boundary falls 8 slots later in physical terms.
        long shift = 16 * KiB;
        tlb.mapSingle(0, 38L * Swiotlb.SLOT_SIZE, 0, 0, -1L, false);
        long h = tlb.mapSingle(0, 8 * KiB, 0, 0, 0xffff, -1L, false, phys -> phys - shift);
        assertEquals(40, (tlb.physAddress(h) - first) / Swiotlb.SLOT_SIZE,
                "slots 38-41 would cross DMA 64 KiB (physical slot 40); the run starts there");
        assertEquals(0, (tlb.physAddress(h) - shift) & 0xffff);
        tlb.release(h);
    }

    /**
     * {@code pci_device_add()} gives every PCI device {@code dma_set_seg_boundary(dev, 0xffffffff)}; the value
     * survives mask changes, and {@code iommu_is_span_boundary()} needs a power-of-two boundary.
     */
    @Test
    void aPciDeviceStartsWithA4GiBSegmentBoundaryThatMaskChangesKeep() {
        DeviceDma initial = DeviceDma.initial(DeviceProperties.simple("pci"), 0, false);
        assertEquals(0xffff_ffffL, initial.segBoundaryMask());
        DeviceDma set = initial.withSegBoundary(0xffff).withDmaMask(DmaMask.BITS_64).withCoherentMask(DmaMask.BITS_64);
        assertEquals(0xffff, set.segBoundaryMask());
        assertEquals(-1L, initial.withSegBoundary(-1L).segBoundaryMask(), "ULONG_MAX: no boundary");
        assertThrows(IllegalArgumentException.class, () -> initial.withSegBoundary(0x1_0000));
    }

    /**
     * Issue 18 measures the bounce's fixed cost: the slot search and release must not allocate, with a
     * min_align_mask, an alloc_align_mask with padding, a boundary and dma-ranges all in play.
     */
    @Test
    void mapAndReleaseAllocateNothing() {
        Swiotlb tlb = pool();
        java.util.function.LongUnaryOperator physToDma = phys -> phys - 16 * KiB;
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long rounds = 200_000;
        long before = 0;
        for (int pass = 0; pass < 2; pass++) {
            // The first pass warms the JIT; only the second is measured.
            before = threads.getCurrentThreadAllocatedBytes();
            for (long i = 0; i < rounds; i++) {
                long h = tlb.mapSingle(0x1e00 + (i & 0xff), 4096 + (i & 0x3ff), 0x1fff, 0x1fff, 0xffff, -1L, false,
                        physToDma);
                tlb.release(h);
                long page = tlb.mapSingle(0, 4096, 0, 0, Swiotlb.PCI_SEG_BOUNDARY, -1L, false, null);
                tlb.release(page);
            }
        }
        long perRound = (threads.getCurrentThreadAllocatedBytes() - before) / rounds;
        assertEquals(0, perRound, "bytes allocated per two map+release pairs");
    }

    private Swiotlb pool() {
        memory = new SimulatedMemory(2 * MiB, List.of(new long[] {16 * MiB, 16 * MiB}), -1L);
        pages = PageAllocators.standard(memory, ZoneLayout.DEFAULT);
        return Swiotlb.create(SwiotlbConfig.defaults().withBytes(2 * MiB).withAreas(1), pages, memory.frameSize(),
                MemoryEncryption.NONE, false);
    }

    /** The pool's first slot, which must be 2 MiB-aligned for the rows' expected bits. */
    private static long slotZero(Swiotlb tlb) {
        long first = tlb.firstPhysAddress();
        assertEquals(0, first & (2 * MiB - 1), "the pool starts 2 MiB-aligned");
        return first;
    }

    @AfterEach
    void tearDown() {
        if (pages != null) {
            pages.close();
            memory.close();
        }
    }
}
