package io.dmadirect.linux.jna;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Mempolicy;
import io.dmadirect.linux.headers.Mman;
import io.dmadirect.linux.headers.Unistd;
import java.nio.ByteBuffer;

/**
 * The real {@link Syscalls}: glibc through {@link LibC}. Each method checks the C return value, reads
 * errno at once (JNA saved it on this thread right after the call) and throws a {@link LinuxException}
 * naming the call. Reads and writes are retried on EINTR, as a signal must not fail them.
 */
public final class LinuxSyscalls implements Syscalls {
    private static volatile LinuxSyscalls instance;

    private final long pageSize;

    private LinuxSyscalls() {
        this.pageSize = LibC.sysconf(Unistd._SC_PAGESIZE);
        if (pageSize <= 0) {
            throw fail("sysconf", "_SC_PAGESIZE");
        }
    }

    /**
     * The one instance; loading it binds glibc.
     *
     * @throws LinuxException when this is not 64-bit Linux or the C library cannot be bound
     */
    public static LinuxSyscalls instance() {
        LinuxSyscalls result = instance;
        if (result == null) {
            synchronized (LinuxSyscalls.class) {
                result = instance;
                if (result == null) {
                    result = load();
                    instance = result;
                }
            }
        }
        return result;
    }

    private static LinuxSyscalls load() {
        if (!Platform.isLinux() || Native.POINTER_SIZE != 8 || Native.LONG_SIZE != 8) {
            throw LinuxException.setup("bind the C library", "dmadirect's mechanism layer needs 64-bit Linux, "
                    + "this is " + System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                    "use the simulated platform on other systems");
        }
        try {
            return new LinuxSyscalls();
        } catch (UnsatisfiedLinkError | LastErrorException e) {
            throw LinuxException.setup("bind the C library", e.toString(),
                    "check that JNA can load its native part (jna.tmpdir must be writable and not noexec)");
        }
    }

    @Override
    public int open(String path, int flags, int mode) {
        int fd = LibC.open(path, flags, mode);
        if (fd < 0) {
            throw fail("open", path);
        }
        return fd;
    }

    @Override
    public void close(int fd) {
        // No retry on EINTR: Linux has released the descriptor already, and it may be reused.
        if (LibC.close(fd) < 0) {
            throw fail("close", "fd " + fd);
        }
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        int result = LibC.ioctl(fd, request, arg);
        if (result < 0) {
            throw fail("ioctl", ioctlDetail(fd, request));
        }
        return result;
    }

    @Override
    public int ioctl(int fd, long request, ByteBuffer arg) {
        try (BufferArgument argument = BufferArgument.of(arg, true)) {
            int result = LibC.ioctl(fd, request, argument.address());
            if (result < 0) {
                throw fail("ioctl", ioctlDetail(fd, request));
            }
            argument.copyOut(arg.remaining());
            return result;
        }
    }

    @Override
    public long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        long mapped = LibC.mmap(address, length, prot, flags, fd, offset);
        if (mapped == Mman.MAP_FAILED) {
            throw fail("mmap", length + " bytes of fd " + fd);
        }
        return mapped;
    }

    @Override
    public void munmap(long address, long length) {
        if (LibC.munmap(address, length) < 0) {
            throw fail("munmap", range(address, length));
        }
    }

    @Override
    public void mlock(long address, long length) {
        if (LibC.mlock(address, length) < 0) {
            throw fail("mlock", range(address, length));
        }
    }

    @Override
    public void munlock(long address, long length) {
        if (LibC.munlock(address, length) < 0) {
            throw fail("munlock", range(address, length));
        }
    }

    @Override
    public void madvise(long address, long length, int advice) {
        if (LibC.madvise(address, length, advice) < 0) {
            throw fail("madvise", range(address, length) + " advice " + advice);
        }
    }

    @Override
    public int memfdCreate(String name, int flags) {
        int fd = LibC.memfd_create(name, flags);
        if (fd < 0) {
            throw fail("memfd_create", "\"" + name + "\" flags 0x" + Integer.toHexString(flags));
        }
        return fd;
    }

    @Override
    public void ftruncate(int fd, long length) {
        if (LibC.ftruncate(fd, length) < 0) {
            throw fail("ftruncate", "fd " + fd + " to " + length + " bytes");
        }
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length) {
        if (LibC.fallocate(fd, mode, offset, length) < 0) {
            throw fail("fallocate", "fd " + fd + " mode " + mode + " at " + offset + " length " + length);
        }
    }

    @Override
    public int pread(int fd, ByteBuffer dst, long offset) {
        try (BufferArgument argument = BufferArgument.of(dst, false)) {
            long n;
            do {
                n = LibC.pread(fd, argument.address(), argument.length(), offset);
            } while (n < 0 && Native.getLastError() == Errno.EINTR);
            if (n < 0) {
                throw fail("pread", "fd " + fd + " at " + offset);
            }
            argument.copyOut((int) n);
            dst.position(dst.position() + (int) n);
            return (int) n;
        }
    }

    @Override
    public int pwrite(int fd, ByteBuffer src, long offset) {
        try (BufferArgument argument = BufferArgument.of(src, true)) {
            long n;
            do {
                n = LibC.pwrite(fd, argument.address(), argument.length(), offset);
            } while (n < 0 && Native.getLastError() == Errno.EINTR);
            if (n < 0) {
                throw fail("pwrite", "fd " + fd + " at " + offset);
            }
            src.position(src.position() + (int) n);
            return (int) n;
        }
    }

    @Override
    public int eventfd(int initialValue, int flags) {
        int fd = LibC.eventfd(initialValue, flags);
        if (fd < 0) {
            throw fail("eventfd", "");
        }
        return fd;
    }

    @Override
    public long eventfdRead(int fd) {
        try (Memory value = new Memory(Long.BYTES)) {
            long n;
            do {
                n = LibC.read(fd, Pointer.nativeValue(value), Long.BYTES);
            } while (n < 0 && Native.getLastError() == Errno.EINTR);
            if (n != Long.BYTES) {
                throw fail("read", "eventfd " + fd);
            }
            return value.getLong(0);
        }
    }

    @Override
    public void eventfdWrite(int fd, long value) {
        try (Memory buffer = new Memory(Long.BYTES)) {
            buffer.setLong(0, value);
            long n;
            do {
                n = LibC.write(fd, Pointer.nativeValue(buffer), Long.BYTES);
            } while (n < 0 && Native.getLastError() == Errno.EINTR);
            if (n != Long.BYTES) {
                throw fail("write", "eventfd " + fd);
            }
        }
    }

    @Override
    public Rlimit getrlimit(int resource) {
        long[] rlim = new long[2];
        if (LibC.getrlimit(resource, rlim) < 0) {
            throw fail("getrlimit", "resource " + resource);
        }
        return new Rlimit(rlim[0], rlim[1]);
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    @Override
    public int getpid() {
        return LibC.getpid();
    }

    @Override
    public ByteBuffer directView(long address, int length) {
        if (address == 0 || length < 0) {
            throw new IllegalArgumentException("no view of " + length + " bytes at 0x" + Long.toHexString(address));
        }
        return new Pointer(address).getByteBuffer(0, length);
    }

    @Override
    public long addressOf(ByteBuffer directBuffer) {
        if (!directBuffer.isDirect()) {
            throw new IllegalArgumentException("a heap buffer has no native address");
        }
        return Pointer.nativeValue(Native.getDirectBufferPointer(directBuffer));
    }

    @Override
    public void setMempolicy(int mode, long nodeMask) {
        // The mask is one word: maxnode 64 covers nodes 0..63 (the kernel reads maxnode - 1 bits, hence 65).
        try (Memory mask = new Memory(8)) {
            mask.setLong(0, nodeMask);
            long address = nodeMask == 0 ? 0 : Pointer.nativeValue(mask);
            if (LibC.syscall(Mempolicy.setMempolicyNumber(System.getProperty("os.arch")), mode, address,
                    nodeMask == 0 ? 0 : 65, 0, 0, 0) < 0) {
                throw fail("set_mempolicy", "mode " + mode + " nodes 0x" + Long.toHexString(nodeMask));
            }
        }
    }

    @Override
    public int[] pageNodes(long[] addresses) {
        int n = addresses.length;
        if (n == 0) {
            return new int[0];
        }
        try (Memory pages = new Memory(8L * n); Memory status = new Memory(4L * n)) {
            for (int i = 0; i < n; i++) {
                pages.setLong(8L * i, addresses[i]);
            }
            // pid 0: this process; nodes NULL: only ask where each page is (status), move nothing.
            if (LibC.syscall(Mempolicy.movePagesNumber(System.getProperty("os.arch")), 0, n, Pointer.nativeValue(pages),
                    0, Pointer.nativeValue(status), 0) < 0) {
                throw fail("move_pages", n + " pages from " + Long.toHexString(addresses[0]));
            }
            int[] nodes = new int[n];
            for (int i = 0; i < n; i++) {
                nodes[i] = status.getInt(4L * i);
            }
            return nodes;
        }
    }

    private static LinuxException fail(String syscall, String detail) {
        int errno = Native.getLastError();
        // A short read or write has no errno; report it as EIO rather than as "errno 0".
        return LinuxException.ofErrno(syscall, detail, errno != 0 ? errno : Errno.EIO);
    }

    private static String ioctlDetail(int fd, long request) {
        return "0x" + Long.toHexString(request) + " on fd " + fd;
    }

    private static String range(long address, long length) {
        return length + " bytes at 0x" + Long.toHexString(address);
    }
}
