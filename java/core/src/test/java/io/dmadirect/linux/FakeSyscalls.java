package io.dmadirect.linux;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Syscalls double for seam tests: records each call by name, fails the calls a test names with the
 * errno it gives, and otherwise succeeds with plausible values.
 */
public class FakeSyscalls implements Syscalls {
    public final List<String> calls= new ArrayList<>();
    public final Map<String, Integer> failures= new HashMap<>();
    public Rlimit memlock= new Rlimit(-1L, -1L);
    private int nextFd = 3;

    /** The calls made so far, by name, for tests outside this package. */
    public List<String> callNames() {
        return List.copyOf(calls);
    }

    public FakeSyscalls failing(String syscall, int errno) {
        failures.put(syscall, errno);
        return this;
    }

    private void call(String syscall, String detail) {
        calls.add(syscall);
        Integer errno = failures.get(syscall);
        if (errno != null) {
            throw LinuxException.ofErrno(syscall, detail, errno);
        }
    }

    @Override
    public int open(String path, int flags, int mode) {
        call("open", path);
        return nextFd++;
    }

    @Override
    public void close(int fd) {
        call("close", "fd " + fd);
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        call("ioctl", "0x" + Long.toHexString(request));
        return 0;
    }

    @Override
    public int ioctl(int fd, long request, ByteBuffer arg) {
        call("ioctl", "0x" + Long.toHexString(request));
        return 0;
    }

    @Override
    public long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        call("mmap", length + " bytes of fd " + fd);
        return 0x7f00_0000_0000L;
    }

    @Override
    public void munmap(long address, long length) {
        call("munmap", "");
    }

    @Override
    public void mlock(long address, long length) {
        call("mlock", length + " bytes at 0x" + Long.toHexString(address));
    }

    @Override
    public void munlock(long address, long length) {
        call("munlock", "");
    }

    @Override
    public void madvise(long address, long length, int advice) {
        call("madvise", "");
    }

    @Override
    public int memfdCreate(String name, int flags) {
        call("memfd_create", "\"" + name + "\"");
        return nextFd++;
    }

    @Override
    public void ftruncate(int fd, long length) {
        call("ftruncate", "");
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length) {
        call("fallocate", "");
    }

    @Override
    public int pread(int fd, ByteBuffer dst, long offset) {
        call("pread", "");
        return 0;
    }

    @Override
    public int pwrite(int fd, ByteBuffer src, long offset) {
        call("pwrite", "");
        return 0;
    }

    @Override
    public int eventfd(int initialValue, int flags) {
        call("eventfd", "");
        return nextFd++;
    }

    @Override
    public long eventfdRead(int fd) {
        call("read", "eventfd " + fd);
        return 0;
    }

    @Override
    public void eventfdWrite(int fd, long value) {
        call("write", "eventfd " + fd);
    }

    @Override
    public Rlimit getrlimit(int resource) {
        call("getrlimit", "");
        return memlock;
    }

    @Override
    public long pageSize() {
        return 4096;
    }

    @Override
    public int getpid() {
        return 4242;
    }

    @Override
    public ByteBuffer directView(long address, int length) {
        return ByteBuffer.allocateDirect(length);
    }

    @Override
    public long addressOf(ByteBuffer directBuffer) {
        return 0x7f00_0000_0000L;
    }
}
