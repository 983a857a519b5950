package io.dmadirect.linux;

import io.dmadirect.linux.headers.Falloc;

/**
 * One hugetlb file mapped whole: virtually contiguous, locked, with the physical address of each page
 * read once at map time. Pages can be given back one by one (the low-memory reserve keeps only some).
 */
final class Segment {
    private final int fd;
    private final long address;
    private final long pageSize;
    private final long[] physByPage;
    private final boolean[] released;

    Segment(int fd, long address, long pageSize, long[] physByPage) {
        this.fd = fd;
        this.address = address;
        this.pageSize = pageSize;
        this.physByPage = physByPage;
        this.released = new boolean[physByPage.length];
    }

    int pages() {
        return physByPage.length;
    }

    long address() {
        return address;
    }

    long length() {
        return pageSize * physByPage.length;
    }

    long cpuAddress(int page) {
        return address + page * pageSize;
    }

    long physAddress(int page) {
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
        long offset = page * pageSize;
        sys.munmap(address + offset, pageSize);
        sys.fallocate(fd, Falloc.FALLOC_FL_PUNCH_HOLE | Falloc.FALLOC_FL_KEEP_SIZE, offset, pageSize);
        released[page] = true;
    }

    /** Unmaps everything (munmap accepts the holes released pages left) and closes the file, freeing the pages. */
    void close(Syscalls sys) {
        try {
            sys.munmap(address, length());
        } finally {
            sys.close(fd);
        }
    }
}
