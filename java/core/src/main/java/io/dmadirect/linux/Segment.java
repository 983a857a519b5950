package io.dmadirect.linux;

import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.Falloc;
import io.dmadirect.linux.headers.Mman;

/**
 * One hugetlb file mapped whole: virtually contiguous, and for PA mode locked, with the physical address
 * of each page read once at map time. Pages can be given back one by one (the low-memory reserve keeps
 * only some). Memory for an IOMMU has no physical addresses ({@link #translated()} is false).
 */
final class Segment {
    private static final System.Logger LOG = System.getLogger(Segment.class.getName());

    private final int fd;
    private final long address;
    private final long pageSize;
    private final long[] physByPage;
    private final boolean[] released;

    /** {@code physByPage} holds one address per page, or is null when pagemap was not read (IOVA mode). */
    Segment(int fd, long address, long pageSize, int pages, long[] physByPage) {
        if (physByPage != null && physByPage.length != pages) {
            throw new IllegalArgumentException(physByPage.length + " physical addresses for " + pages + " pages");
        }
        this.fd = fd;
        this.address = address;
        this.pageSize = pageSize;
        this.physByPage = physByPage;
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
        long offset = page * pageSize;
        sys.munmap(address + offset, pageSize);
        sys.fallocate(fd, Falloc.FALLOC_FL_PUNCH_HOLE | Falloc.FALLOC_FL_KEEP_SIZE, offset, pageSize);
        released[page] = true;
    }

    /**
     * Gives the hugepages back and closes the file, but leaves the address range mapped: the hugepage
     * mapping is replaced in one step by anonymous, zero-filled, unreserved memory
     * ({@code mmap(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)}) instead of unmapped.
     *
     * <p>Why: a {@code ByteBuffer} view of this memory that a user kept past close cannot be taken back,
     * and touching an unmapped range would kill the JVM with SIGSEGV. After the replacement a stale view
     * reads zeros and its writes land in private memory nobody else sees. The cost: the virtual range
     * stays reserved until the process exits (address space only), and a stale view that writes makes
     * ordinary 4 KiB pages resident for what it wrote. Should the replacement fail, the hugepages stay
     * mapped, leaked until exit, rather than leave a hole. Pages released earlier ({@link #release}) were
     * never handed out and are left as they are.
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
                replaceWithAnonymous(sys, address + first * pageSize, (end - first) * pageSize);
                first = end;
            }
        } finally {
            sys.close(fd);
        }
    }

    private static void replaceWithAnonymous(Syscalls sys, long start, long bytes) {
        try {
            sys.mmap(start, bytes, Mman.PROT_READ | Mman.PROT_WRITE,
                    Mman.MAP_FIXED | Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
        } catch (LinuxException e) {
            LOG.log(System.Logger.Level.WARNING, "linux/hugepages: leaking " + Sizes.format(bytes) + " at "
                    + Sizes.hex(start) + " until exit: replacing them at close failed: " + e.getMessage());
        }
    }
}
