package io.dmadirect.pool;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One chunk of an atomic pool: pages of a single page-allocator block, handed out from a bitmap with
 * compare-and-set, so allocation never waits for a lock (the kernel's genalloc does the same).
 *
 * <p>Notation: bit {@code i} of word {@code w} is page {@code 64 * w + i}; set means allocated. An
 * allocation of {@code n <= 64} pages occupies {@code n} consecutive bits of one word, which keeps every
 * update a single compare-and-set.
 */
final class PoolChunk {
    static final int MAX_PAGES_PER_ALLOC = 64;

    final long pageHandle;
    final long physBase;
    final long cpuBase;
    final int pages;
    private final AtomicLongArray used;
    private final AtomicReferenceArray<Object> owners;

    PoolChunk(long pageHandle, long physBase, long cpuBase, int pages) {
        this.pageHandle = pageHandle;
        this.physBase = physBase;
        this.cpuBase = cpuBase;
        this.pages = pages;
        this.used = new AtomicLongArray((pages + 63) / 64);
        this.owners = new AtomicReferenceArray<>(pages);
        int tail = pages % 64;
        if (tail != 0) {
            // Pages past the end of the chunk are marked used so that no run can reach them.
            used.set(used.length() - 1, -1L << tail);
        }
    }

    /** Claims {@code n} consecutive pages; returns the first page index, or -1 when no word has room. */
    int claim(int n) {
        for (int w = 0; w < used.length(); w++) {
            while (true) {
                long bits = used.get(w);
                long runStarts = runsOfFree(~bits, n);
                if (runStarts == 0) {
                    break;
                }
                int first = Long.numberOfTrailingZeros(runStarts);
                long mask = runMask(n) << first;
                if (used.compareAndSet(w, bits, bits | mask)) {
                    return w * 64 + first;
                }
            }
        }
        return -1;
    }

    /** Returns pages {@code [first, first + n)}; false when any of them was not claimed. */
    boolean release(int first, int n) {
        int w = first / 64;
        long mask = runMask(n) << (first % 64);
        while (true) {
            long bits = used.get(w);
            if ((bits & mask) != mask) {
                return false;
            }
            if (used.compareAndSet(w, bits, bits & ~mask)) {
                return true;
            }
        }
    }

    int freePages() {
        int free = 0;
        for (int w = 0; w < used.length(); w++) {
            free += Long.bitCount(~used.get(w));
        }
        return free;
    }

    void setOwner(int page, Object owner) {
        owners.set(page, owner);
    }

    Object ownerOfPage(int page) {
        if ((used.get(page / 64) & (1L << (page % 64))) == 0) {
            return null;
        }
        // An owner is stored at the first page of its allocation: walk back to it. The caller checks
        // that the owner's range covers the page, since the walk may pass a free page's gap.
        for (int p = page; p >= 0 && p > page - MAX_PAGES_PER_ALLOC; p--) {
            Object owner = owners.get(p);
            if (owner != null) {
                return owner;
            }
        }
        return null;
    }

    void forEachOwner(java.util.function.Consumer<Object> action) {
        for (int page = 0; page < pages; page++) {
            Object owner = owners.get(page);
            if (owner != null) {
                action.accept(owner);
            }
        }
    }

    boolean contains(long phys) {
        return Long.compareUnsigned(phys, physBase) >= 0 && Long.compareUnsigned(phys - physBase, (long) pages * 4096) < 0;
    }

    /** Bit {@code i} of the result is set when bits {@code i .. i + n - 1} of {@code free} are all set. */
    static long runsOfFree(long free, int n) {
        long runs = free;
        int have = 1;
        while (have < n) {
            int shift = Math.min(have, n - have);
            runs &= runs >>> shift;
            have += shift;
        }
        return runs;
    }

    static long runMask(int n) {
        return n == 64 ? -1L : (1L << n) - 1;
    }
}
