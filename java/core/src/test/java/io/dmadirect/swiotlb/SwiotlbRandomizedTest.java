package io.dmadirect.swiotlb;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.MemoryEncryption;
import io.dmadirect.spi.SwiotlbConfig;
import io.dmadirect.spi.ZoneLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Property-style: random map and unmap sequences (seeded, so a failure repeats) with random originals, sizes,
 * {@code min_align_mask}, {@code alloc_align_mask} and segment boundaries. After every step each live mapping
 * satisfies the kernel's placement rules, no two runs share a slot, and the pool counts exactly the live runs'
 * slots, padding included; at the end every slot is free again and the segments are whole.
 *
 * <p>The rules checked, in DMA addresses (the pool seen through an optional dma-range shift):
 * <ul>
 *   <li>min_align_mask: the bounce address has the original's bits under it (0 included: a deliberate
 *       departure, see {@link Swiotlb#mapSingle});</li>
 *   <li>alloc_align_mask: the run starts with zero bits under it, widened to a slot, and to a page when neither
 *       mask is set and the run is a page or more;</li>
 *   <li>size: the run is {@code ALIGN(size + offset, alloc_align_mask + 1)} in whole slots, with
 *       {@code offset >> 11} padding slots in front and room for {@code size} bytes after the address;</li>
 *   <li>segment boundary: the run spans no multiple of the boundary + 1.</li>
 * </ul>
 */
class SwiotlbRandomizedTest {
    private static final long[] MIN_ALIGN = {0, 0, 0x7ff, 0xfff, 0x1fff, 0x3fff};
    private static final long[] ALLOC_ALIGN = {0, 0, 0, 0x7ff, 0xfff, 0x1fff, 0xffff};
    private static final long[] BOUNDARY = {Swiotlb.NO_SEG_BOUNDARY, Swiotlb.PCI_SEG_BOUNDARY, 0xffff, 0x1_ffff};

    private SimulatedMemory memory;
    private PageAllocator pages;

    private record Live(long handle, long runStart, int run) {
    }

    @ParameterizedTest(name = "seed {0}, DMA = phys - {1}, {2} areas")
    @CsvSource({"1, 0, 1", "2, 0, 4", "3, 10240, 1", "4, 10240, 2", "5, 0, 2", "6, 2048, 4"})
    void randomMapsAndUnmapsKeepEveryRuleAndLeakNothing(long seed, long shift, int areas) {
        Swiotlb tlb = pool(areas);
        LongUnaryOperator physToDma = shift == 0 ? null : phys -> phys - shift;
        Random random = new Random(seed);
        TreeMap<Long, Live> live = new TreeMap<>();
        int mapped = 0;
        for (int step = 0; step < 20_000; step++) {
            if (!live.isEmpty() && (random.nextInt(100) < 45 || live.size() > 200)) {
                Long key = pick(live, random);
                Live gone = live.remove(key);
                tlb.release(gone.handle());
            } else {
                long minAlign = MIN_ALIGN[random.nextInt(MIN_ALIGN.length)];
                long allocAlign = ALLOC_ALIGN[random.nextInt(ALLOC_ALIGN.length)];
                long boundary = BOUNDARY[random.nextInt(BOUNDARY.length)];
                long orig = random.nextInt(8) == 0 ? 0 : random.nextLong() & 0xf_ffff_ffffL;
                long size = 1 + random.nextInt((int) Swiotlb.maxMappingSize(minAlign) / (random.nextBoolean() ? 16 : 1));
                long h = tlb.mapSingle(orig, size, minAlign, allocAlign, boundary, -1L, false, physToDma);
                if (h != Swiotlb.NONE) {
                    Live l = check(tlb, h, orig, size, minAlign, allocAlign, boundary, shift);
                    assertDisjoint(live, l);
                    live.put(l.runStart(), l);
                    mapped++;
                }
            }
            assertEquals(live.values().stream().mapToLong(Live::run).sum(), tlb.usedSlots(),
                    "step " + step + ": the pool counts exactly the live runs, padding included");
        }
        assertTrue(mapped > 2000, "the sequence mapped often enough to mean something: " + mapped);
        for (Live l : live.values()) {
            tlb.release(l.handle());
        }
        assertEquals(0, tlb.usedSlots(), "no slot leaks");
        assertEquals(Swiotlb.SEGMENT_SLOTS, tlb.stats().largestFreeRun());
        List<Long> segments = new ArrayList<>();
        long h;
        while ((h = tlb.mapSingle(0, Swiotlb.SEGMENT_BYTES, 0, 0, -1L, false)) != Swiotlb.NONE) {
            segments.add(h);
        }
        assertEquals(8, segments.size(), "all 8 segments of 2 MiB whole again: the padding slots were freed");
        segments.forEach(tlb::release);
    }

    private static Live check(Swiotlb tlb, long h, long orig, long size, long minAlign, long allocAlign, long boundary,
            long shift) {
        String what = "orig 0x" + Long.toHexString(orig) + " size " + size + " min_align 0x" + Long.toHexString(minAlign)
                + " alloc_align 0x" + Long.toHexString(allocAlign) + " boundary 0x" + Long.toHexString(boundary);
        long phys = tlb.physAddress(h);
        long dma = phys - shift;
        assertEquals(orig & minAlign, dma & minAlign, "min_align_mask bits kept (orig 0 too, see Swiotlb.mapSingle): " + what);
        long offset = orig & minAlign & (allocAlign | (Swiotlb.SLOT_SIZE - 1));
        int pad = tlb.padSlots(h);
        assertEquals(offset >>> Swiotlb.SLOT_SHIFT, pad, "pad_slots: " + what);
        long runStartPhys = (phys & -(long) Swiotlb.SLOT_SIZE) - (long) pad * Swiotlb.SLOT_SIZE;
        long runStartDma = runStartPhys - shift;
        long allocSize = (size + offset + allocAlign) & ~allocAlign;
        int run = Swiotlb.runSlots(h);
        assertEquals((allocSize + Swiotlb.SLOT_SIZE - 1) / Swiotlb.SLOT_SIZE, run, "run slots: " + what);
        long align = allocAlign == 0 && minAlign == 0 && allocSize >= 4 * KiB ? 4 * KiB - 1 : allocAlign;
        assertEquals(0, runStartDma & (align | (Swiotlb.SLOT_SIZE - 1)), "run start aligned: " + what);
        long runEndDma = runStartDma + (long) run * Swiotlb.SLOT_SIZE - 1;
        assertEquals(runStartDma & ~boundary, runEndDma & ~boundary, "no segment boundary spanned: " + what);
        assertTrue(tlb.capacity(h) >= size, "room for the mapping: " + what);
        assertEquals(runStartPhys + (long) run * Swiotlb.SLOT_SIZE, phys + tlb.capacity(h), "capacity ends with the run");
        return new Live(h, runStartPhys, run);
    }

    private static void assertDisjoint(TreeMap<Long, Live> live, Live l) {
        Map.Entry<Long, Live> below = live.floorEntry(l.runStart());
        Map.Entry<Long, Live> above = live.ceilingEntry(l.runStart());
        long end = l.runStart() + (long) l.run() * Swiotlb.SLOT_SIZE;
        if (below != null && below.getKey() + (long) below.getValue().run() * Swiotlb.SLOT_SIZE > l.runStart()) {
            fail("run at 0x" + Long.toHexString(l.runStart()) + " overlaps the run at 0x" + Long.toHexString(below.getKey()));
        }
        if (above != null && above.getKey() < end) {
            fail("run at 0x" + Long.toHexString(l.runStart()) + " overlaps the run at 0x" + Long.toHexString(above.getKey()));
        }
    }

    private static Long pick(TreeMap<Long, Live> live, Random random) {
        int i = random.nextInt(live.size());
        for (Long key : live.keySet()) {
            if (i-- == 0) {
                return key;
            }
        }
        throw new AssertionError();
    }

    private Swiotlb pool(int areas) {
        memory = new SimulatedMemory(2 * MiB, List.of(new long[] {16 * MiB, 16 * MiB}), -1L);
        pages = PageAllocators.standard(memory, ZoneLayout.DEFAULT);
        return Swiotlb.create(SwiotlbConfig.defaults().withBytes(2 * MiB).withAreas(areas), pages, memory.frameSize(),
                MemoryEncryption.NONE, false);
    }

    @AfterEach
    void tearDown() {
        if (pages != null) {
            pages.close();
            memory.close();
        }
    }
}
