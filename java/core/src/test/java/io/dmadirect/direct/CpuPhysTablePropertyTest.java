package io.dmadirect.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.Addresses;
import io.dmadirect.spi.MemoryRun;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link CpuPhysTable}'s fast path (the largest run first) and its binary search must give the answer of the
 * plain rule, written here as a linear scan: the last run starting at or below the address holds the range
 * when the range ends at or before that run's end; a negative size or a range that wraps is no hit. Random
 * layouts (gaps, adjacent runs, physical order shuffled against CPU order), probes at every run's edges and
 * beyond, both directions.
 */
class CpuPhysTablePropertyTest {

    record Run(long frameBase, long size, long cpuAddress) implements MemoryRun {
        @Override
        public ByteBuffer cpuView(long offset, int length) {
            throw new UnsupportedOperationException("a translation test has no memory behind its runs");
        }
    }

    /** A run's lengths and the gaps before it on each side, in 4 KiB frames; a gap of 0 makes adjacent runs. */
    record Shape(int frames, int cpuGap, int physGap, int physRank) {
    }

    @Provide
    Arbitrary<List<Shape>> layouts() {
        Arbitrary<Integer> gaps = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, 1 << 12)));
        return Combinators.combine(Arbitraries.integers().between(1, 1 << 10), gaps, gaps,
                Arbitraries.integers().between(0, 1000)).as(Shape::new).list().ofMinSize(0).ofMaxSize(12);
    }

    /** Runs laid out in CPU order from the shapes, their physical order given by each shape's rank. */
    static List<MemoryRun> runs(List<Shape> shapes) {
        List<Integer> physOrder = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            physOrder.add(i);
        }
        physOrder.sort((a, b) -> Integer.compare(shapes.get(a).physRank(), shapes.get(b).physRank()));
        long[] phys = new long[shapes.size()];
        long nextPhys = 1L << 30;
        for (int i : physOrder) {
            nextPhys += shapes.get(i).physGap() * 4096L;
            phys[i] = nextPhys;
            nextPhys += shapes.get(i).frames() * 4096L;
        }
        List<MemoryRun> runs = new ArrayList<>();
        long nextCpu = 0x7f00_0000_0000L;
        for (int i = 0; i < shapes.size(); i++) {
            nextCpu += shapes.get(i).cpuGap() * 4096L;
            runs.add(new Run(phys[i], shapes.get(i).frames() * 4096L, nextCpu));
            nextCpu += shapes.get(i).frames() * 4096L;
        }
        return runs;
    }

    /** The rule, by a linear scan over the runs in either direction. */
    static long expected(List<MemoryRun> runs, long from, long size, boolean toCpu) {
        MemoryRun holder = null;
        for (MemoryRun run : runs) {
            long start = toCpu ? run.frameBase() : run.cpuAddress();
            long holderStart = holder == null ? 0 : toCpu ? holder.frameBase() : holder.cpuAddress();
            if (start <= from && (holder == null || start > holderStart)) {
                holder = run;
            }
        }
        if (holder == null || size < 0) {
            return Addresses.NONE;
        }
        long start = toCpu ? holder.frameBase() : holder.cpuAddress();
        if (from + size < from || from + size > start + holder.size()) {
            return Addresses.NONE;
        }
        return (toCpu ? holder.cpuAddress() : holder.frameBase()) + (from - start);
    }

    /** Every run's start, end and their neighbours, with sizes from none to more than the run. */
    static void checkEveryEdge(List<MemoryRun> runs, long seed) {
        CpuPhysTable table = CpuPhysTable.of(runs);
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (MemoryRun run : runs) {
            for (boolean toCpu : new boolean[] {false, true}) {
                long start = toCpu ? run.frameBase() : run.cpuAddress();
                long end = start + run.size();
                long inside = start + random.nextLong(run.size());
                for (long from : new long[] {start - 1, start, start + 1, inside, end - 1, end, end + 1, 0, -1}) {
                    for (long size : new long[] {0, 1, 64, 4096, run.size(), run.size() + 1, end - from, end - from + 1,
                            random.nextLong(1L << 24), -1, Long.MIN_VALUE, Long.MAX_VALUE}) {
                        long actual = toCpu ? table.cpuOf(from, size) : table.physOf(from, size);
                        assertEquals(expected(runs, from, size, toCpu), actual, () -> (toCpu ? "cpuOf" : "physOf")
                                + "(0x" + Long.toHexString(from) + ", " + size + ") over " + runs);
                    }
                }
            }
        }
    }

    @Property(tries = 300)
    void fastPathAndSearchAgreeWithTheRule(@ForAll("layouts") List<Shape> shapes, @ForAll long seed) {
        checkEveryEdge(runs(shapes), seed);
    }

    @Property(tries = 200)
    void randomAddressesAgreeWithTheRule(@ForAll("layouts") List<Shape> shapes, @ForAll long seed) {
        List<MemoryRun> runs = runs(shapes);
        CpuPhysTable table = CpuPhysTable.of(runs);
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int i = 0; i < 200; i++) {
            long cpu = 0x7f00_0000_0000L + random.nextLong(1L << 34);
            long phys = (1L << 30) + random.nextLong(1L << 34);
            long size = random.nextLong(1L << 22);
            assertEquals(expected(runs, cpu, size, false), table.physOf(cpu, size));
            assertEquals(expected(runs, phys, size, true), table.cpuOf(phys, size));
        }
    }

    @Example
    void anEmptyTableHoldsNothing() {
        CpuPhysTable table = CpuPhysTable.of(List.of());
        for (long address : new long[] {0, 1, 4096, -1, Long.MIN_VALUE}) {
            assertEquals(Addresses.NONE, table.physOf(address, 0));
            assertEquals(Addresses.NONE, table.physOf(address, 1));
            assertEquals(Addresses.NONE, table.cpuOf(address, 1));
        }
    }

    /**
     * The cases the fast path must leave to the search: the largest run second in CPU order, a smaller run right
     * after it (adjacent in CPU space, not in physical space), a range crossing from one into the other.
     */
    @Example
    void aRangeCrossingFromTheLargestRunIntoItsNeighbourIsNoHit() {
        long cpu = 0x7f00_0000_0000L;
        List<MemoryRun> runs = List.of(new Run(0x10_0000, 0x1000, cpu), new Run(0x100_0000, 0x10_0000, cpu + 0x1000),
                new Run(0x20_0000, 0x2000, cpu + 0x10_1000));
        CpuPhysTable table = CpuPhysTable.of(runs);
        long largestEnd = cpu + 0x10_1000;
        assertEquals(0x100_0000 + 0xf_ffff, table.physOf(largestEnd - 1, 1));
        assertEquals(Addresses.NONE, table.physOf(largestEnd - 1, 2));
        assertEquals(0x20_0000, table.physOf(largestEnd, 1));
        assertEquals(0x10_0fff, table.physOf(cpu + 0xfff, 1));
        assertEquals(Addresses.NONE, table.physOf(cpu + 0xfff, 2));
        assertEquals(cpu + 0x1000, table.cpuOf(0x100_0000, 0x10_0000));
        assertEquals(Addresses.NONE, table.cpuOf(0x100_0000, 0x10_0001));
        assertEquals(Addresses.NONE, table.cpuOf(0xff_ffff, 1));
        checkEveryEdge(runs, 1);
    }
}
