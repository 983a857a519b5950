package io.dmadirect.linux;

import java.nio.ByteBuffer;

/**
 * The one seam between dmadirect and the kernel: every system call the mechanism layer makes goes
 * through here, so device and memory logic can be tested against a fake. Only Java types appear;
 * {@code io.dmadirect.linux.jna.LinuxSyscalls} is the real implementation.
 *
 * <p>Every method throws {@link LinuxException} naming the call and the errno when the call fails;
 * none returns -1. Addresses and sizes are {@code long} (unsigned where C has {@code size_t}).
 * Flags are those of {@code io.dmadirect.linux.headers}.
 */
public interface Syscalls {

    /** @see <a href="https://man7.org/linux/man-pages/man2/open.2.html">open(2)</a> */
    int open(String path, int flags, int mode);

    /** @see <a href="https://man7.org/linux/man-pages/man2/close.2.html">close(2)</a> */
    void close(int fd);

    /**
     * An ioctl whose argument is a value or an address the caller owns.
     *
     * @see <a href="https://man7.org/linux/man-pages/man2/ioctl.2.html">ioctl(2)</a>
     */
    int ioctl(int fd, long request, long arg);

    /**
     * An ioctl whose argument points to a struct: the bytes of {@code arg} from its position to its
     * limit are the struct. What the kernel writes back is in {@code arg} afterwards; the position does
     * not move. Fill the buffer in {@link java.nio.ByteOrder#nativeOrder()}.
     */
    int ioctl(int fd, long request, ByteBuffer arg);

    /** Returns the mapped address. @see <a href="https://man7.org/linux/man-pages/man2/mmap.2.html">mmap(2)</a> */
    long mmap(long address, long length, int prot, int flags, int fd, long offset);

    /** @see <a href="https://man7.org/linux/man-pages/man2/munmap.2.html">munmap(2)</a> */
    void munmap(long address, long length);

    /** @see <a href="https://man7.org/linux/man-pages/man2/mlock.2.html">mlock(2)</a> */
    void mlock(long address, long length);

    /** @see <a href="https://man7.org/linux/man-pages/man2/mlock.2.html">munlock(2)</a> */
    void munlock(long address, long length);

    /** @see <a href="https://man7.org/linux/man-pages/man2/madvise.2.html">madvise(2)</a> */
    void madvise(long address, long length, int advice);

    /** @see <a href="https://man7.org/linux/man-pages/man2/memfd_create.2.html">memfd_create(2)</a> */
    int memfdCreate(String name, int flags);

    /** @see <a href="https://man7.org/linux/man-pages/man2/ftruncate.2.html">ftruncate(2)</a> */
    void ftruncate(int fd, long length);

    /** @see <a href="https://man7.org/linux/man-pages/man2/fallocate.2.html">fallocate(2)</a> */
    void fallocate(int fd, int mode, long offset, long length);

    /**
     * Reads into {@code dst} from its position up to its limit; returns the bytes read and advances the
     * position by as many.
     *
     * @see <a href="https://man7.org/linux/man-pages/man2/pread.2.html">pread(2)</a>
     */
    int pread(int fd, ByteBuffer dst, long offset);

    /** Writes {@code src} from its position; returns the bytes written and advances the position. */
    int pwrite(int fd, ByteBuffer src, long offset);

    /** @see <a href="https://man7.org/linux/man-pages/man2/eventfd.2.html">eventfd(2)</a> */
    int eventfd(int initialValue, int flags);

    /** Reads the 8-byte counter of an eventfd (and resets it, or decrements it in semaphore mode). */
    long eventfdRead(int fd);

    /** Adds {@code value} to the 8-byte counter of an eventfd. */
    void eventfdWrite(int fd, long value);

    /** @see <a href="https://man7.org/linux/man-pages/man2/getrlimit.2.html">getrlimit(2)</a> */
    Rlimit getrlimit(int resource);

    /** {@code sysconf(_SC_PAGESIZE)}: the base page size, the unit of /proc/self/pagemap. */
    long pageSize();

    /** @see <a href="https://man7.org/linux/man-pages/man2/getpid.2.html">getpid(2)</a> */
    int getpid();

    /**
     * Not a system call but the one place a native address becomes Java memory: a new direct buffer over
     * {@code [address, address + length)}, in big-endian order as every new ByteBuffer. It does not own
     * the memory; it must not be used after the memory is unmapped.
     */
    ByteBuffer directView(long address, int length);

    /**
     * The inverse of {@link #directView}: the native address of a direct buffer's first byte (JNI's
     * {@code GetDirectBufferAddress}), so that a view handed out can be checked against pagemap.
     *
     * @throws IllegalArgumentException for a heap buffer, which has no stable address
     */
    long addressOf(ByteBuffer directBuffer);

    // --- NUMA memory policy (issue 21) ---

    /**
     * {@code set_mempolicy(2)} for the calling thread: {@code mode} one of {@code MPOL_*} ({@link
     * io.dmadirect.linux.headers.Mempolicy}), {@code nodeMask} a bit set of nodes 0 to 63. The default does nothing:
     * a kernel without NUMA policies (fakes) places memory as it would anyway.
     */
    default void setMempolicy(int mode, long nodeMask) {
    }

    /**
     * {@code move_pages(2)} with no target nodes: the NUMA node of the page at each address of this process, or a
     * negative errno for a page that is not present. The default, for a kernel without NUMA, says -1 (unknown) for
     * every page.
     */
    default int[] pageNodes(long[] addresses) {
        int[] unknown = new int[addresses.length];
        java.util.Arrays.fill(unknown, -1);
        return unknown;
    }
}
