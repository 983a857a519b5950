package io.dmadirect.linux.vfio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.FakeSyscalls;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.headers.Errno;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * {@code VFIO_IOMMU_MAP_DMA} pins what it maps against RLIMIT_MEMLOCK: its ENOMEM says so. The memlock
 * check before mapping sees only one session's memory, so a second session of the same process is where
 * this is met.
 */
class VfioContainerMapTest {

    /** A type1 container whose map ioctl fails with {@code errno}; other ioctls succeed as on a real host. */
    private static FakeSyscalls kernelFailingMapWith(int errno) {
        return new FakeType1Host() {
            @Override
            public int ioctl(int fd, long request, ByteBuffer arg) {
                super.ioctl(fd, request, arg);
                if (request == VfioUapi.VFIO_IOMMU_MAP_DMA) {
                    throw LinuxException.ofErrno("ioctl", "VFIO_IOMMU_MAP_DMA", errno);
                }
                return 0;
            }
        };
    }

    @Test
    void enomemFromTheMapNamesTheMemlockLimit() {
        try (VfioContainer container = VfioContainer.open(kernelFailingMapWith(Errno.ENOMEM), false)) {
            container.groupAdded();
            LinuxException e = assertThrows(LinuxException.class, () -> container.map(0x400000, 0x7f0000000000L, 1 << 21));
            assertEquals(Errno.ENOMEM, e.errno());
            assertTrue(e.getMessage().startsWith("failed to ioctl VFIO_IOMMU_MAP_DMA: Cannot allocate memory (errno 12); "
                    + "VFIO pins mapped memory and counts it"), e.getMessage());
            assertTrue(e.getMessage().contains("RLIMIT_MEMLOCK exceeded") && e.getMessage().contains("ulimit -l"),
                    e.getMessage());
        }
    }

    @Test
    void otherErrorsKeepTheirOwnRemedy() {
        try (VfioContainer container = VfioContainer.open(kernelFailingMapWith(Errno.EINVAL), false)) {
            container.groupAdded();
            LinuxException e = assertThrows(LinuxException.class, () -> container.map(0x400000, 0x7f0000000000L, 1 << 21));
            assertEquals("failed to ioctl VFIO_IOMMU_MAP_DMA: Invalid argument (errno 22)", e.getMessage());
        }
    }
}
