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
 */
final class CpuPhysTable {
    private final long[] cpuStart;
    private final long[] cpuEnd;
    private final long[] physStart;

    private CpuPhysTable(long[] cpuStart, long[] cpuEnd, long[] physStart) {
        this.cpuStart = cpuStart;
        this.cpuEnd = cpuEnd;
        this.physStart = physStart;
    }

    static CpuPhysTable of(List<MemoryRun> runs) {
        List<MemoryRun> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingLong(MemoryRun::cpuAddress));
        int n = sorted.size();
        long[] start = new long[n];
        long[] end = new long[n];
        long[] phys = new long[n];
        for (int i = 0; i < n; i++) {
            MemoryRun run = sorted.get(i);
            start[i] = run.cpuAddress();
            end[i] = run.cpuAddress() + run.size();
            phys[i] = run.frameBase();
        }
        return new CpuPhysTable(start, end, phys);
    }

    int size() {
        return cpuStart.length;
    }

    /**
     * The physical address of {@code cpu} when all of {@code [cpu, cpu + size)} lies in one run, which is
     * contiguous physically; {@link Addresses#NONE} otherwise.
     */
    long physOf(long cpu, long size) {
        int lo = 0;
        int hi = cpuStart.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cpuStart[mid] <= cpu) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        int i = lo - 1;
        if (i < 0 || cpu + size > cpuEnd[i] || cpu + size < cpu) {
            return Addresses.NONE;
        }
        return physStart[i] + (cpu - cpuStart[i]);
    }
}
