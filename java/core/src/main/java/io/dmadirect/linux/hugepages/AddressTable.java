package io.dmadirect.linux.hugepages;

import io.dmadirect.Addresses;
import java.util.Arrays;

/**
 * CPU virtual address to physical address by table lookup: no system call, no allocation, no lock.
 * It is what DPDK's {@code rte_mem_virt2iova()} does with a pagemap read each time, done once per
 * hugepage at map time instead (DESIGN §5).
 *
 * <p>Immutable: {@link HugepageMemory} publishes a new table through a volatile field when a segment is
 * added, so a lookup racing with growth sees the old or the new table, both correct for what they hold.
 * Segments are sorted by virtual base; a lookup is a binary search over the segments (one to a few) and
 * an index into that segment's per-page array.
 *
 * <p>The largest segment (the initial one, usually the only one) is also held in fields of its own and tried
 * first: one subtraction, one unsigned compare and one array read, the cost of a flat table (issue 18: the
 * search over arrays of arrays cost 1.8 times that).
 */
final class AddressTable {
    static final AddressTable EMPTY = new AddressTable(new long[0], new long[0], new long[0][], 21);

    private final long[] base;
    private final long[] end;
    private final long[][] physByPage;
    private final int pageShift;
    private final long pageMask;
    /** The largest segment's base, length and pages: the flat table tried first. */
    private final long hotBase;
    private final long hotLength;
    private final long[] hotPhys;

    private AddressTable(long[] base, long[] end, long[][] physByPage, int pageShift) {
        this.base = base;
        this.end = end;
        this.physByPage = physByPage;
        this.pageShift = pageShift;
        this.pageMask = (1L << pageShift) - 1;
        int hot = -1;
        for (int i = 0; i < base.length; i++) {
            if (hot < 0 || physByPage[i].length > physByPage[hot].length) {
                hot = i;
            }
        }
        this.hotBase = hot < 0 ? 0 : base[hot];
        this.hotLength = hot < 0 ? 0 : end[hot] - base[hot];
        this.hotPhys = hot < 0 ? new long[0] : physByPage[hot];
    }

    /**
     * This table with one more segment of pages at {@code cpuBase}; {@code physByPage[i]} is the physical
     * address of page {@code i}, or {@link Addresses#NONE} for a page not held. The array is taken, not copied.
     */
    AddressTable with(long cpuBase, long pageSize, long[] physByPage) {
        int shift = Long.numberOfTrailingZeros(pageSize);
        int n = base.length;
        int at = 0;
        while (at < n && Long.compareUnsigned(base[at], cpuBase) < 0) {
            at++;
        }
        long[] newBase = insert(base, at, cpuBase);
        long[] newEnd = insert(end, at, cpuBase + physByPage.length * pageSize);
        long[][] newPhys = new long[n + 1][];
        System.arraycopy(this.physByPage, 0, newPhys, 0, at);
        newPhys[at] = physByPage;
        System.arraycopy(this.physByPage, at, newPhys, at + 1, n - at);
        return new AddressTable(newBase, newEnd, newPhys, shift);
    }

    /** The physical address of {@code cpuAddress}, or {@link Addresses#NONE} when no held page contains it. */
    long physAddress(long cpuAddress) {
        long offset = cpuAddress - hotBase;
        if (Long.compareUnsigned(offset, hotLength) < 0) {
            long phys = hotPhys[(int) (offset >>> pageShift)];
            return phys == Addresses.NONE ? Addresses.NONE : phys + (cpuAddress & pageMask);
        }
        return searched(cpuAddress);
    }

    /** The other segments: a binary search. */
    private long searched(long cpuAddress) {
        int lo = 0;
        int hi = base.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(cpuAddress, base[mid]) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(cpuAddress, end[mid]) >= 0) {
                lo = mid + 1;
            } else {
                long phys = physByPage[mid][(int) ((cpuAddress - base[mid]) >>> pageShift)];
                return phys == Addresses.NONE ? Addresses.NONE : phys + (cpuAddress & pageMask);
            }
        }
        return Addresses.NONE;
    }

    private static long[] insert(long[] array, int at, long value) {
        long[] out = Arrays.copyOf(array, array.length + 1);
        System.arraycopy(array, at, out, at + 1, array.length - at);
        out[at] = value;
        return out;
    }
}
