package io.dmadirect.linux.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Eventfd;
import io.dmadirect.linux.headers.Fcntl;
import io.dmadirect.linux.headers.MemfdFlags;
import io.dmadirect.linux.headers.Mman;
import io.dmadirect.linux.headers.Resource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real syscalls against this kernel; none needs root. */
class LinuxSyscallsTest {
    /** {@code FIONREAD} of asm-generic/ioctls.h: on a regular file, the bytes from the offset to the end. */
    private static final long FIONREAD = 0x541B;

    private static LinuxSyscalls sys;

    @BeforeAll
    static void load() {
        HostRequirement.require(System.getProperty("os.name").startsWith("Linux"), "needs Linux");
        sys = LinuxSyscalls.instance();
    }

    @Test
    void errnoReachesTheMessage() {
        LinuxException e = assertThrows(LinuxException.class,
                () -> sys.open("/nonexistent/dmadirect", Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("failed to open /nonexistent/dmadirect: No such file or directory (errno 2)", e.getMessage());
    }

    @Test
    void badDescriptorGivesEbadf() {
        LinuxException e = assertThrows(LinuxException.class, () -> sys.close(1_000_000));
        assertEquals(Errno.EBADF, e.errno());
    }

    @Test
    void memfdPwritePreadFtruncateAndStructIoctl() {
        int fd = sys.memfdCreate("dmadirect-test", MemfdFlags.MFD_CLOEXEC);
        try {
            byte[] text = "hello, device".getBytes(StandardCharsets.US_ASCII);
            assertEquals(text.length, sys.pwrite(fd, ByteBuffer.wrap(text), 100));
            ByteBuffer heap = ByteBuffer.allocate(text.length);
            assertEquals(text.length, sys.pread(fd, heap, 100));
            assertEquals("hello, device", new String(heap.array(), StandardCharsets.US_ASCII));
            ByteBuffer direct = ByteBuffer.allocateDirect(5);
            assertEquals(5, sys.pread(fd, direct, 107));
            assertEquals(5, direct.position());
            direct.flip();
            assertEquals("devic", StandardCharsets.US_ASCII.decode(direct).toString());

            sys.ftruncate(fd, 12345);
            // An int the kernel writes back through a pointer: the heap copy and the direct buffer both see it.
            ByteBuffer heapInt = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
            sys.ioctl(fd, FIONREAD, heapInt);
            assertEquals(12345, heapInt.getInt(0));
            ByteBuffer directInt = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            sys.ioctl(fd, FIONREAD, directInt);
            assertEquals(12345, directInt.getInt(0));
        } finally {
            sys.close(fd);
        }
    }

    @Test
    void unknownIoctlGivesEnotty() {
        int fd = sys.eventfd(0, Eventfd.EFD_CLOEXEC);
        try {
            LinuxException e = assertThrows(LinuxException.class, () -> sys.ioctl(fd, 0x3B71, 0L));
            assertEquals(Errno.ENOTTY, e.errno());
            assertTrue(e.getMessage().startsWith("failed to ioctl 0x3b71 on fd " + fd + ": Inappropriate ioctl"));
        } finally {
            sys.close(fd);
        }
    }

    @Test
    void eventfdCountsWrites() {
        int fd = sys.eventfd(0, Eventfd.EFD_CLOEXEC | Eventfd.EFD_NONBLOCK);
        try {
            sys.eventfdWrite(fd, 3);
            sys.eventfdWrite(fd, 4);
            assertEquals(7, sys.eventfdRead(fd));
            LinuxException empty = assertThrows(LinuxException.class, () -> sys.eventfdRead(fd));
            assertEquals(Errno.EAGAIN, empty.errno());
        } finally {
            sys.close(fd);
        }
    }

    @Test
    void anonymousMappingIsViewedLockedAndUnmapped() {
        long size = 2 * sys.pageSize();
        long address = sys.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        try {
            sys.mlock(address, sys.pageSize());
            sys.madvise(address, size, Mman.MADV_DONTDUMP);
            sys.directView(address, (int) size).putLong(4096, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, sys.directView(address + 4096, 8).getLong(0));
            sys.munlock(address, sys.pageSize());
        } finally {
            sys.munmap(address, size);
        }
    }

    @Test
    void rlimitPageSizeAndPid() {
        Rlimit memlock = sys.getrlimit(Resource.RLIMIT_MEMLOCK);
        assertTrue(memlock.soft() == Resource.RLIM_INFINITY || Long.compareUnsigned(memlock.soft(), memlock.hard()) <= 0);
        assertEquals(4096, sys.pageSize());
        assertEquals(ProcessHandle.current().pid(), sys.getpid());
    }
}
