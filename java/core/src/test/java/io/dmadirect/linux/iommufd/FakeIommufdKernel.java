package io.dmadirect.linux.iommufd;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A kernel with iommufd and the VFIO cdev, on the syscall seam: it answers IOAS_ALLOC, BIND, ATTACH,
 * IOVA_RANGES (with EMSGSIZE first when the array is small) and keeps the bytes of every ioctl. Only
 * what the iommufd backend and VfioPciDevice's constructor call is implemented.
 */
class FakeIommufdKernel implements Syscalls {
    record Ioctl(int fd, long request, byte[] bytes) {
    }

    final List<Ioctl> ioctls = new ArrayList<>();
    final List<String> opened = new ArrayList<>();
    final List<Integer> closed = new ArrayList<>();
    long[][] ranges = {{0, 0xfedfffffL}, {0xfef00000L, (1L << 39) - 1}};
    /** When not 0, IOMMU_IOAS_MAP fails with this errno (as past the user's RLIMIT_MEMLOCK: ENOMEM). */
    int mapErrno;
    /** When not 0, VFIO_DEVICE_BIND_IOMMUFD fails with this errno (EINVAL: the device is open elsewhere). */
    int bindErrno;
    /** When not 0, IOMMU_IOAS_MAP_FILE fails with this errno (ENOTTY: a kernel before 6.13). */
    int mapFileErrno;
    private int nextFd = 10;

    @Override
    public int open(String path, int flags, int mode) {
        opened.add(path);
        return nextFd++;
    }

    @Override
    public void close(int fd) {
        closed.add(fd);
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        ioctls.add(new Ioctl(fd, request, new byte[0]));
        return 0;
    }

    @Override
    public int ioctl(int fd, long request, ByteBuffer arg) {
        ByteBuffer b = arg.duplicate().order(ByteOrder.nativeOrder());
        if (request == io.dmadirect.linux.vfio.VfioUapi.VFIO_DEVICE_BIND_IOMMUFD && bindErrno != 0) {
            record(fd, request, arg);
            throw LinuxException.ofErrno("ioctl", "VFIO_DEVICE_BIND_IOMMUFD", bindErrno);
        }
        if (request == IommufdUapi.IOMMU_IOAS_MAP && mapErrno != 0) {
            record(fd, request, arg);
            throw LinuxException.ofErrno("ioctl", "IOMMU_IOAS_MAP", mapErrno);
        }
        if (request == IommufdUapi.IOMMU_IOAS_MAP_FILE && mapFileErrno != 0) {
            record(fd, request, arg);
            throw LinuxException.ofErrno("ioctl", "IOMMU_IOAS_MAP_FILE", mapFileErrno);
        }
        if (request == IommufdUapi.IOMMU_IOAS_ALLOC) {
            b.putInt(8, 7);
        } else if (request == IommufdUapi.IOMMU_IOAS_IOVA_RANGES) {
            int capacity = b.getInt(8);
            b.putInt(8, ranges.length);
            if (capacity < ranges.length) {
                record(fd, request, arg);
                throw LinuxException.ofErrno("ioctl", "IOVA_RANGES", 90);
            }
            long address = b.getLong(16);
            ByteBuffer array = io.dmadirect.linux.jna.LinuxSyscalls.instance().directView(address, 16 * capacity)
                    .order(ByteOrder.nativeOrder());
            for (int i = 0; i < ranges.length; i++) {
                array.putLong(16 * i, ranges[i][0]).putLong(16 * i + 8, ranges[i][1]);
            }
        } else if (request == 0x3b6b) { // VFIO_DEVICE_GET_INFO: a PCI device with reset
            b.putInt(4, 3);
        } else if (request == 0x3b6c) { // VFIO_DEVICE_GET_REGION_INFO of config space
            b.putLong(16, 4096).putLong(24, 7L << 40);
        }
        record(fd, request, arg);
        return 0;
    }

    private void record(int fd, long request, ByteBuffer arg) {
        byte[] bytes = new byte[arg.remaining()];
        arg.duplicate().get(bytes);
        ioctls.add(new Ioctl(fd, request, bytes));
    }

    Ioctl last(long request) {
        for (int i = ioctls.size() - 1; i >= 0; i--) {
            if (ioctls.get(i).request() == request) {
                return ioctls.get(i);
            }
        }
        throw new AssertionError("no ioctl 0x" + Long.toHexString(request));
    }

    private static UnsupportedOperationException no() {
        return new UnsupportedOperationException("not used by the iommufd backend");
    }

    @Override public long mmap(long a, long l, int p, int f, int fd, long o) { throw no(); }
    @Override public void munmap(long a, long l) { throw no(); }
    @Override public void mlock(long a, long l) { throw no(); }
    @Override public void munlock(long a, long l) { throw no(); }
    @Override public void madvise(long a, long l, int adv) { throw no(); }
    @Override public int memfdCreate(String n, int f) { throw no(); }
    @Override public void ftruncate(int fd, long l) { throw no(); }
    @Override public void fallocate(int fd, int m, long o, long l) { throw no(); }
    @Override public int pread(int fd, ByteBuffer d, long o) { throw no(); }
    @Override public int pwrite(int fd, ByteBuffer s, long o) { throw no(); }
    @Override public int eventfd(int v, int f) { throw no(); }
    @Override public long eventfdRead(int fd) { throw no(); }
    @Override public void eventfdWrite(int fd, long v) { throw no(); }
    @Override public Rlimit getrlimit(int r) { throw no(); }
    @Override public long pageSize() { return 4096; }
    @Override public int getpid() { return 1; }
    @Override public ByteBuffer directView(long a, int l) { throw no(); }
    @Override public long addressOf(ByteBuffer b) { throw no(); }
}
