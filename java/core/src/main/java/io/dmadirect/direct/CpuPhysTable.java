package io.dmadirect.direct;

import io.dmadirect.Addresses;
import io.dmadirect.spi.MemoryRun;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * CPU address to physical address for the pinned memory a platform holds, as a sorted table of its runs:
 * a binary search with no allocation, so a streaming mapping of DMA memory costs no syscall and no
 * object. It is immutable; the platform swaps in a new one when its memory grows.
 *
 * <p>The largest run is also held in fields of its own and tried first in both directions, as the hugepage
 * {@code AddressTable} does with its largest segment: one subtraction and two unsigned compares decide a hit,
 * where the search over the arrays cost about a third of a primitive direct map+unmap (issue 17, async-profiler).
 * The fast path answers only when the whole range lies inside that run; anything else (a miss, a range that
 * crosses its end, a negative size) goes to the search, so both give the same answer for every input.
 */
final class CpuPhysTable {
    private final long[] cpuStart;
    private final long[] cpuEnd;
    private final long[] physStart;

    /** The same runs sorted by physical address, for the way back ({@link #cpuOf}). */
    private final long[] byPhysStart;
    private final long[] byPhysEnd;
    private final long[] byPhysCpu;

    /** The largest run: its CPU start, physical start and length (0 for an empty table: nothing is inside). */
    private final long hotCpu;
    private final long hotPhys;
    private final long hotLength;

    private CpuPhysTable(long[] cpuStart, long[] cpuEnd, long[] physStart, long[] byPhysStart, long[] byPhysEnd,
            long[] byPhysCpu) {
        this.cpuStart = cpuStart;
        this.cpuEnd = cpuEnd;
        this.physStart = physStart;
        this.byPhysStart = byPhysStart;
        this.byPhysEnd = byPhysEnd;
        this.byPhysCpu = byPhysCpu;
        int hot = -1;
        for (int i = 0; i < cpuStart.length; i++) {
            if (hot < 0 || cpuEnd[i] - cpuStart[i] > cpuEnd[hot] - cpuStart[hot]) {
                hot = i;
            }
        }
        this.hotCpu = hot < 0 ? 0 : cpuStart[hot];
        this.hotPhys = hot < 0 ? 0 : physStart[hot];
        this.hotLength = hot < 0 ? 0 : cpuEnd[hot] - cpuStart[hot];
    }

    static CpuPhysTable of(List<MemoryRun> runs) {
        List<MemoryRun> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingLong(MemoryRun::cpuAddress));
        long[][] byCpu = columns(sorted, true);
        sorted.sort(Comparator.comparingLong(MemoryRun::frameBase));
        long[][] byPhys = columns(sorted, false);
        return new CpuPhysTable(byCpu[0], byCpu[1], byCpu[2], byPhys[0], byPhys[1], byPhys[2]);
    }

    /** Each run's start, end and the other side's start, keyed by CPU address or by physical address. */
    private static long[][] columns(List<MemoryRun> sorted, boolean byCpu) {
        int n = sorted.size();
        long[][] columns = new long[3][n];
        for (int i = 0; i < n; i++) {
            MemoryRun run = sorted.get(i);
            long from = byCpu ? run.cpuAddress() : run.frameBase();
            columns[0][i] = from;
            columns[1][i] = from + run.size();
            columns[2][i] = byCpu ? run.frameBase() : run.cpuAddress();
        }
        return columns;
    }

    int size() {
        return cpuStart.length;
    }

    /**
     * The physical address of {@code cpu} when all of {@code [cpu, cpu + size)} lies in one run, which is
     * contiguous physically; {@link Addresses#NONE} otherwise.
     */
    long physOf(long cpu, long size) {
        long offset = cpu - hotCpu;
        if (insideHot(offset, size)) {
            return hotPhys + offset;
        }
        return translate(cpuStart, cpuEnd, physStart, cpu, size);
    }

    /**
     * The CPU address of {@code phys} when all of {@code [phys, phys + size)} lies in one run: the way back a
     * non-coherent device's unmap and sync take from a DMA address to the memory to maintain.
     */
    long cpuOf(long phys, long size) {
        long offset = phys - hotPhys;
        if (insideHot(offset, size)) {
            return hotCpu + offset;
        }
        return translate(byPhysStart, byPhysEnd, byPhysCpu, phys, size);
    }

    /**
     * Whether {@code [offset, offset + size)} from the largest run's start lies inside it: the start strictly
     * inside (so an address at its end, which may begin an adjacent run, is left to the search) and the size
     * no more than what is left after it, both unsigned (a negative offset or size is no hit).
     */
    private boolean insideHot(long offset, long size) {
        return Long.compareUnsigned(offset, hotLength) < 0 && Long.compareUnsigned(size, hotLength - offset) <= 0;
    }

    /** The run of sorted {@code starts} holding {@code [from, from + size)}, moved to {@code targets}; a binary search. */
    private static long translate(long[] starts, long[] ends, long[] targets, long from, long size) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] <= from) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        int i = lo - 1;
        if (i < 0 || from + size > ends[i] || from + size < from) {
            return Addresses.NONE;
        }
        return targets[i] + (from - starts[i]);
    }
}
