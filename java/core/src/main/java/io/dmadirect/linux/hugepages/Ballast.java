package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.MemfdFlags;
import io.dmadirect.linux.headers.Mman;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * Hugepages held back so that the kernel hands out the next ones from a lower zone. A hugepage
 * allocation walks the zonelist NORMAL, DMA32, DMA and takes the first zone with a free 2 MiB block, so
 * ZONE_DMA32 serves hugepages only once ZONE_NORMAL has none left. The ballast takes those.
 *
 * <p>It costs little and leaves nothing behind: each piece is a hugetlb memfd mapped without
 * MAP_POPULATE, so the kernel only <em>reserves</em> its pages ({@code hugetlb_reserve_pages()}). The
 * reservation takes the pool's free pages first, and only the rest as surplus pages from the page
 * allocator, unzeroed and untouched; so only pages beyond the pool's free pages at the start push the
 * kernel toward the low zones, and only they count against the cap ({@link #newPages()}, {@link BallastStep}).
 * Closing it, or the process dying, gives the surplus pages straight back to the page allocator and the
 * pool's pages back to the pool. The only global change is nr_overcommit_hugepages,
 * raised so that surplus pages may be lent and put back on close (a SIGKILL leaves the raised limit,
 * never memory).
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/hugetlbpage.html">HugeTLB Pages: surplus pages</a>
 */
final class Ballast implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Ballast.class.getName());
    private static final String PREFIX = "linux/lowmem: ";

    private final Syscalls sys;
    private final HugepageSysfs sysfs;
    private final HugepageSize size;
    private final long overcommitBefore;
    private final long poolFreeAtStart;
    private final List<long[]> pieces = new ArrayList<>();
    private long heldPages;
    private long peakPages;

    /** Lets the pool lend up to {@code maxPages} more surplus pages than it lends now; root only. */
    Ballast(Syscalls sys, HugepageSysfs sysfs, HugepageSize size, long maxPages) {
        this.sys = sys;
        this.sysfs = sysfs;
        this.size = size;
        this.overcommitBefore = sysfs.nrOvercommitHugepages(size);
        this.poolFreeAtStart = sysfs.availableHugepages(size);
        long wanted = Math.addExact(sysfs.surplusHugepages(size), maxPages);
        if (wanted > overcommitBefore) {
            sysfs.writeOvercommit(size, wanted);
        }
    }

    /**
     * Holds back {@code pages} more. Returns false when the kernel has no more to give (the pages are
     * not held then), which the caller takes as the end of the search.
     */
    boolean add(long pages) {
        long bytes = Math.multiplyExact(pages, size.bytes());
        int fd = sys.memfdCreate("dmadirect-ballast",
                MemfdFlags.MFD_CLOEXEC | MemfdFlags.MFD_HUGETLB | size.memfdFlag());
        try {
            sys.ftruncate(fd, bytes);
            long address = sys.mmap(0, bytes, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            pieces.add(new long[] {fd, address, bytes});
        } catch (LinuxException e) {
            sys.close(fd);
            if (e.errno() == Errno.ENOMEM || e.errno() == Errno.ENOSPC) {
                return false;
            }
            throw e;
        }
        heldPages += pages;
        peakPages = Math.max(peakPages, heldPages);
        return true;
    }

    long heldPages() {
        return heldPages;
    }

    /** Pages held beyond the pool's free pages at the start: those taken newly from the page allocator. */
    long newPages() {
        return Math.max(0, heldPages - poolFreeAtStart);
    }

    /** The pool's free pages at the start that the ballast does not hold yet. */
    long poolPagesLeft() {
        return Math.max(0, poolFreeAtStart - heldPages);
    }

    long peakPages() {
        return peakPages;
    }

    /** Gives every held page back and puts nr_overcommit_hugepages back as it was. */
    @Override
    public void close() {
        for (long[] piece : pieces) {
            try {
                sys.munmap(piece[1], piece[2]);
            } finally {
                sys.close((int) piece[0]);
            }
        }
        pieces.clear();
        heldPages = 0;
        try {
            if (sysfs.nrOvercommitHugepages(size) != overcommitBefore) {
                sysfs.writeOvercommit(size, overcommitBefore);
            }
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, PREFIX + "could not restore {0}: {1}", sysfs.nrOvercommitPath(size), e.getMessage());
        }
    }
}
