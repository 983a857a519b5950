package io.dmadirect.linux.headers;

/**
 * {@code <sys/mman.h>}: protections, mapping flags and advice for mmap, mlock and madvise.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/mmap.2.html">mmap(2)</a>
 * @see <a href="https://man7.org/linux/man-pages/man2/madvise.2.html">madvise(2)</a>
 */
public final class Mman {
    public static final int PROT_NONE = 0x0;
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_LOCKED = 0x2000;
    public static final int MAP_NORESERVE = 0x4000;
    /** Faults every page in at mmap time, so hugepage shortage shows there and not as SIGBUS later. */
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MAP_HUGE_SHIFT = 26;

    /** {@code (void *) -1}, what mmap returns on failure. */
    public static final long MAP_FAILED = -1L;

    public static final int MADV_DONTFORK = 10;
    /** Leaves the range out of core dumps: gigabytes of DMA memory make a dump useless. */
    public static final int MADV_DONTDUMP = 16;

    private Mman() {
    }
}
