package io.dmadirect.iova;

import io.dmadirect.Addresses;
import io.dmadirect.spi.IovaRange;

import io.dmadirect.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Places IOVA ranges: a pure allocator over the IOMMU's valid ranges that touches no file descriptor
 * (libvfn's {@code __iova_reserve()} idea), so it is tested on its own.
 *
 * <p>Notation: a free interval is {@code [start, last]}, inclusive, kept in {@link #free} by start.
 * Invariants: free intervals never overlap or touch (neighbours are merged on free), lie inside the
 * valid ranges and at or above the floor, and never overlap a live allocation. Placement is first fit
 * from the lowest address, which is what keeps low IOVAs for devices with narrow masks only as long as
 * callers ask for low memory first; {@link #allocate(long, long, long, long)} takes a floor for callers
 * that want to keep the low range free.
 *
 * <p>The limit is the last IOVA the range may touch, {@code min_not_zero(dma_mask, bus_dma_limit)} as
 * {@code iommu_dma_alloc_iova()} computes it. Not thread-safe: callers hold their own lock.
 *
 * @see <a href="https://github.com/SamsungDS/libvfn/blob/main/src/iommu/context.c">libvfn iova reserve</a>
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/drivers/iommu/dma-iommu.c">iommu_dma_alloc_iova()</a>
 */
final class IovaAllocator {
    private final List<IovaRange> valid;
    private final TreeMap<Long, Long> free = new TreeMap<>();
    private final TreeMap<Long, Long> live = new TreeMap<>();

    /**
     * @param validRanges the IOMMU's valid ranges (any order, may overlap)
     * @param floor       no IOVA below this is handed out; use a page or more so that IOVA 0, which a
     *                    device cannot tell from "no address", is never used
     */
    public IovaAllocator(List<IovaRange> validRanges, long floor) {
        if (validRanges == null || validRanges.isEmpty()) {
            throw new IllegalArgumentException("failed to set up IOVA allocation: no valid IOVA range");
        }
        if (floor < 0) {
            throw new IllegalArgumentException("negative IOVA floor " + floor);
        }
        this.valid = List.copyOf(validRanges);
        for (IovaRange r : valid) {
            if (r.last() >= floor) {
                release(Math.max(r.first(), floor), r.last());
            }
        }
    }

    /** The valid ranges this allocator was made with. */
    public List<IovaRange> validRanges() {
        return valid;
    }

    /** {@code allocate(size, align, 0, limit)}. */
    public long allocate(long size, long align, long limit) {
        return allocate(size, align, 0, limit);
    }

    /**
     * Reserves {@code size} bytes at the lowest IOVA that is a multiple of {@code align}, at least
     * {@code min}, and whose last byte is at most {@code limit}.
     *
     * @return the IOVA, or {@link Addresses#NONE} when no free space fits
     * @throws IllegalArgumentException when size is not positive, align is not a power of two, or min or
     *         limit is negative
     */
    public long allocate(long size, long align, long min, long limit) {
        if (size <= 0 || align <= 0 || Long.bitCount(align) != 1 || min < 0 || limit < 0) {
            throw new IllegalArgumentException("failed to allocate IOVA: bad request size " + size + ", align "
                    + align + ", min " + Sizes.hex(min) + ", limit " + Sizes.hex(limit)
                    + " (need size > 0, align a power of two, min and limit >= 0)");
        }
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            long start = e.getKey();
            long last = e.getValue();
            if (start > limit) {
                break;
            }
            long candidate = alignUp(Math.max(start, min), align);
            if (candidate < 0) {
                continue;
            }
            long end = candidate + size - 1;
            if (end < candidate || end > last || end > limit) {
                continue;
            }
            take(start, last, candidate, end);
            live.put(candidate, size);
            return candidate;
        }
        return Addresses.NONE;
    }

    /**
     * Gives back a range from {@link #allocate}; the space is merged with free neighbours and reused.
     *
     * @throws IllegalStateException when {@code [iova, iova + size)} is not a live allocation
     */
    public void free(long iova, long size) {
        Long held = live.get(iova);
        if (held == null || held != size) {
            throw new IllegalStateException("failed to free IOVA " + Sizes.hex(iova) + " (" + size
                    + " bytes): it is not a live allocation" + (held == null ? "" : " of that size (held " + held + ")"));
        }
        live.remove(iova);
        release(iova, iova + size - 1);
    }

    /** Whether {@code iova} lies in a live allocation. */
    public boolean isAllocated(long iova) {
        Map.Entry<Long, Long> e = live.floorEntry(iova);
        return e != null && iova - e.getKey() < e.getValue();
    }

    /** Free bytes in total (for messages and tests). */
    public long freeBytes() {
        long n = 0;
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            n = Math.addExact(n, e.getValue() - e.getKey() + 1);
        }
        return n;
    }

    /** The free intervals, lowest first (for messages and tests). */
    public List<IovaRange> freeRanges() {
        List<IovaRange> out = new ArrayList<>();
        free.forEach((s, l) -> out.add(new IovaRange(s, l)));
        return out;
    }

    private void take(long start, long last, long from, long to) {
        free.remove(start);
        if (from > start) {
            free.put(start, from - 1);
        }
        if (to < last) {
            free.put(to + 1, last);
        }
    }

    /** Adds {@code [start, last]} to the free intervals, merging with any interval it overlaps or touches. */
    private void release(long start, long last) {
        Map.Entry<Long, Long> below = free.floorEntry(start);
        if (below != null && below.getValue() >= start - 1) {
            start = below.getKey();
            last = Math.max(last, below.getValue());
            free.remove(below.getKey());
        }
        Map.Entry<Long, Long> above = free.ceilingEntry(start);
        while (above != null && (last == Long.MAX_VALUE || above.getKey() <= last + 1)) {
            last = Math.max(last, above.getValue());
            free.remove(above.getKey());
            above = free.ceilingEntry(start);
        }
        free.put(start, last);
    }

    private static long alignUp(long value, long align) {
        long r = (value + align - 1) & -align;
        return r < value ? -1 : r;
    }
}
