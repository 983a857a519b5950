package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.RetiredMapping;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.Falloc;

/**
 * One hugetlb file mapped whole: virtually contiguous, and for PA mode locked, with the physical address
 * of each page read once at map time. Pages can be given back one by one (the low-memory reserve keeps
 * only some). Memory for an IOMMU has no physical addresses ({@link #translated()} is false).
 */
final class Segment {
    private final int fd;
    private final long address;
    private final long pageSize;
    private final long[] physByPage;
    /** The file page mapped at each virtual page; null when page i of the file is at virtual page i. */
    private final int[] filePage;
    private final boolean[] released;

    /** {@code physByPage} holds one address per page, or is null when pagemap was not read (IOVA mode). */
    Segment(int fd, long address, long pageSize, int pages, long[] physByPage) {
        this(fd, address, pageSize, pages, physByPage, null);
    }

    /** As above, with the file page mapped at each virtual page ({@link SegmentMapper} sorts PA segments by address). */
    Segment(int fd, long address, long pageSize, int pages, long[] physByPage, int[] filePage) {
        if (physByPage != null && physByPage.length != pages) {
            throw new IllegalArgumentException(physByPage.length + " physical addresses for " + pages + " pages");
        }
        if (filePage != null && filePage.length != pages) {
            throw new IllegalArgumentException(filePage.length + " file pages for " + pages + " pages");
        }
        this.fd = fd;
        this.address = address;
        this.pageSize = pageSize;
        this.physByPage = physByPage;
        this.filePage = filePage;
        this.released = new boolean[pages];
    }

    int pages() {
        return released.length;
    }

    /** Whether the physical address of each page is known. */
    boolean translated() {
        return physByPage != null;
    }

    long address() {
        return address;
    }

    long length() {
        return pageSize * released.length;
    }

    long cpuAddress(int page) {
        return address + page * pageSize;
    }

    long physAddress(int page) {
        if (physByPage == null) {
            throw new IllegalStateException("segment at " + Sizes.hex(address)
                    + " was mapped for an IOMMU: its physical addresses were never read");
        }
        return physByPage[page];
    }

    boolean held(int page) {
        return !released[page];
    }

    long heldBytes() {
        long held = 0;
        for (boolean r : released) {
            held += r ? 0 : pageSize;
        }
        return held;
    }

    /**
     * Gives one page back to the hugepage pool: unmap it, then punch it out of the file, since an
     * unmapped page of a file that is still open stays allocated.
     */
    void release(Syscalls sys, int page) {
        sys.munmap(address + page * pageSize, pageSize);
        long fileOffset = (filePage == null ? page : filePage[page]) * pageSize;
        sys.fallocate(fd, Falloc.FALLOC_FL_PUNCH_HOLE | Falloc.FALLOC_FL_KEEP_SIZE, fileOffset, pageSize);
        released[page] = true;
    }

    /**
     * Gives the hugepages back and closes the file, but leaves the address range mapped: the hugepage
     * mapping is replaced by anonymous memory ({@link RetiredMapping}), so a CPU view a user kept past
     * close reads zeros instead of crashing the JVM. Pages released earlier ({@link #release}) were never
     * handed out and are left as they are: their ranges may hold someone else's mapping by now.
     */
    void close(Syscalls sys) {
        try {
            // Only the pages still held: a released page's range was unmapped and may hold someone else's
            // mapping now, which MAP_FIXED would clobber.
            int first = 0;
            while (first < released.length) {
                if (released[first]) {
                    first++;
                    continue;
                }
                int end = first;
                while (end < released.length && !released[end]) {
                    end++;
                }
                RetiredMapping.replace(sys, address + first * pageSize, (end - first) * pageSize, "hugepages");
                first = end;
            }
        } finally {
            sys.close(fd);
        }
    }
}
