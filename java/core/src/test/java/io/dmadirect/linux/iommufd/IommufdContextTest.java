package io.dmadirect.linux.iommufd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.spi.IovaRange;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.vfio.VfioPciDevice;
import io.dmadirect.linux.vfio.VfioUapi;
import io.dmadirect.pci.PciAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The iommufd backend on the syscall seam, byte for byte against {@code include/uapi/linux/iommufd.h}
 * and the VFIO cdev part of {@code vfio.h} (Linux 6.6+). On a real kernel it runs in the rig's
 * {@code iommufd} variant (test-rigs/hil, 6.12).
 */
class IommufdContextTest {

    @Test
    void ioctlNumbersAndSizesFollowTheUapiHeader() {
        // _IO(';', 0x80 + n), IOMMUFD_CMD_DESTROY = 0x80, IOAS_ALLOC, ALLOW_IOVAS, COPY, IOVA_RANGES, MAP, UNMAP.
        assertEquals(List.of(0x3b80L, 0x3b81L, 0x3b84L, 0x3b85L, 0x3b86L), List.of(IommufdUapi.IOMMU_DESTROY,
                IommufdUapi.IOMMU_IOAS_ALLOC, IommufdUapi.IOMMU_IOAS_IOVA_RANGES, IommufdUapi.IOMMU_IOAS_MAP,
                IommufdUapi.IOMMU_IOAS_UNMAP));
        assertEquals(List.of(8, 12, 32, 16, 40, 24), List.of(IommufdUapi.SIZEOF_DESTROY, IommufdUapi.SIZEOF_IOAS_ALLOC,
                IommufdUapi.SIZEOF_IOAS_IOVA_RANGES, IommufdUapi.SIZEOF_IOVA_RANGE, IommufdUapi.SIZEOF_IOAS_MAP,
                IommufdUapi.SIZEOF_IOAS_UNMAP));
    }

    @Test
    void opensBindsAttachesMapsAndUnmaps() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        IommufdContext iommu = IommufdContext.open(k, address -> "/dev/vfio/devices/vfio0");
        VfioPciDevice device = iommu.openDevice(PciAddress.parse("0000:00:04.0"));
        assertEquals(List.of("/dev/iommu", "/dev/vfio/devices/vfio0"), k.opened);
        assertEquals(7, iommu.ioasId());

        ByteBuffer alloc = le(k.last(IommufdUapi.IOMMU_IOAS_ALLOC).bytes());
        assertEquals(12, alloc.capacity());
        assertEquals(12, alloc.getInt(0), "size");
        ByteBuffer bind = le(k.last(VfioUapi.VFIO_DEVICE_BIND_IOMMUFD).bytes());
        assertEquals(List.of(16, 0, 10), List.of(bind.getInt(0), bind.getInt(4), bind.getInt(8)), "argsz, flags, iommufd");
        ByteBuffer attach = le(k.last(VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT).bytes());
        assertEquals(List.of(12, 0, 7), List.of(attach.getInt(0), attach.getInt(4), attach.getInt(8)), "argsz, flags, pt_id");
        assertEquals(11, k.last(VfioUapi.VFIO_DEVICE_BIND_IOMMUFD).fd(), "bound through the device cdev");

        iommu.map(0x40_0000, 0x7f12_3400_0000L, 0x20_0000);
        ByteBuffer map = le(k.last(IommufdUapi.IOMMU_IOAS_MAP).bytes());
        assertEquals(40, map.getInt(0));
        assertEquals(1 | 2 | 4, map.getInt(4), "FIXED_IOVA | WRITEABLE | READABLE");
        assertEquals(7, map.getInt(8));
        assertEquals(0, map.getInt(12), "__reserved");
        assertEquals(List.of(0x7f12_3400_0000L, 0x20_0000L, 0x40_0000L), List.of(map.getLong(16), map.getLong(24),
                map.getLong(32)), "user_va, length, iova");

        iommu.unmap(0x40_0000, 0x20_0000);
        ByteBuffer unmap = le(k.last(IommufdUapi.IOMMU_IOAS_UNMAP).bytes());
        assertEquals(List.of(24, 7), List.of(unmap.getInt(0), unmap.getInt(4)));
        assertEquals(List.of(0x40_0000L, 0x20_0000L), List.of(unmap.getLong(8), unmap.getLong(16)));

        device.close();
        iommu.close();
        assertEquals(List.of(11, 10), k.closed, "the device first, then /dev/iommu");
    }

    @Test
    void validRangesAskAgainWhenTheArrayIsSmall() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        k.ranges = new long[12][];
        for (int i = 0; i < 12; i++) {
            k.ranges[i] = new long[] {(long) i << 32, ((long) i << 32) + 0xffff_ffffL - 0x10_0000};
        }
        IommufdContext iommu = openedWithDevice(k);
        List<IovaRange> ranges = iommu.validRanges();
        assertEquals(12, ranges.size());
        assertEquals(new IovaRange(11L << 32, (11L << 32) + 0xffef_ffffL), ranges.get(11));
        ByteBuffer q = le(k.last(IommufdUapi.IOMMU_IOAS_IOVA_RANGES).bytes());
        assertEquals(List.of(32, 7, 12), List.of(q.getInt(0), q.getInt(4), q.getInt(8)), "size, ioas_id, num_iovas");
        assertEquals(Long.MAX_VALUE, iommu.mappingsAvailable());
    }

    @Test
    void aMapPastTheMemlockLimitSaysSo() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        IommufdContext iommu = openedWithDevice(k);
        k.mapErrno = 12;
        LinuxException e = assertThrows(LinuxException.class, () -> iommu.map(0x40_0000, 0x7f12_3400_0000L, 0x20_0000));
        assertEquals(12, e.errno());
        assertTrue(e.getMessage().contains("iommufd counts what all of this user's processes have pinned")
                && e.getMessage().contains("ulimit -l"), e.getMessage());
        k.mapErrno = 22;
        LinuxException other = assertThrows(LinuxException.class, () -> iommu.map(0x40_0001, 0, 0x1000));
        assertFalse(other.getMessage().contains("RLIMIT_MEMLOCK"), "only ENOMEM points at the limit: " + other.getMessage());
    }

    @Test
    void aDeviceHeldElsewhereIsRefusedWithTheReasonAndNothingLeftOpen() {
        for (int errno : new int[] {22, 16}) {
            FakeIommufdKernel k = new FakeIommufdKernel();
            k.bindErrno = errno;
            IommufdContext iommu = IommufdContext.open(k, address -> "/dev/vfio/devices/vfio0");
            LinuxException e = assertThrows(LinuxException.class, () -> iommu.openDevice(PciAddress.parse("00:04.0")));
            iommu.close();
            assertEquals(errno, e.errno());
            String reason = errno == 22 ? "0000:00:04.0 is already open through /dev/vfio/devices/vfio0"
                    : "the IOMMU group of 0000:00:04.0 is open through /dev/vfio/N";
            assertTrue(e.getMessage().contains(reason) && e.getMessage().contains("one opener at a time"),
                    e.getMessage());
            assertEquals(List.of(11, 10), k.closed, "the cdev and /dev/iommu are closed again");
        }
    }

    @Test
    void aBindRefusedForUnisolatedMsisSaysSoAndLeavesNothingOpen() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        k.bindErrno = 1;
        IommufdContext iommu = IommufdContext.open(k, address -> "/dev/vfio/devices/vfio0");
        LinuxException e = assertThrows(LinuxException.class, () -> iommu.openDevice(PciAddress.parse("00:04.0")));
        iommu.close();
        assertEquals(1, e.errno());
        assertTrue(e.getMessage().contains("cannot isolate the device's MSIs")
                && e.getMessage().contains("iommufd.allow_unsafe_interrupts=1"), e.getMessage());
        assertEquals(List.of(11, 10), k.closed, "the cdev and /dev/iommu are closed again");
    }

    @Test
    void mapFileSendsTheUapiStructAtAFixedIova() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        IommufdContext iommu = openedWithDevice(k);
        assertEquals(0x3b8fL, IommufdUapi.IOMMU_IOAS_MAP_FILE, "_IO(';', IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f)");
        iommu.mapFile(0x80_0000, 42, 0x20_0000, 0x40_0000);
        ByteBuffer m = le(k.last(IommufdUapi.IOMMU_IOAS_MAP_FILE).bytes());
        assertEquals(40, m.capacity());
        assertEquals(List.of(40, 1 | 2 | 4, 7, 42), List.of(m.getInt(0), m.getInt(4), m.getInt(8), m.getInt(12)),
                "size, FIXED_IOVA | WRITEABLE | READABLE, ioas_id, fd");
        assertEquals(List.of(0x20_0000L, 0x40_0000L, 0x80_0000L), List.of(m.getLong(16), m.getLong(24), m.getLong(32)),
                "start, length, iova");
        assertEquals(10, k.last(IommufdUapi.IOMMU_IOAS_MAP_FILE).fd(), "on /dev/iommu");
    }

    @Test
    void mapFileOnAKernelWithoutItNamesTheVersionAndTheWayAround() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        IommufdContext iommu = openedWithDevice(k);
        k.mapFileErrno = 25;
        LinuxException e = assertThrows(LinuxException.class, () -> iommu.mapFile(0x80_0000, 42, 0, 0x20_0000));
        assertEquals(25, e.errno());
        assertTrue(e.getMessage().contains("needs Linux 6.13+ with iommufd; this kernel answered ENOTTY")
                && e.getMessage().contains("IOMMU_IOAS_MAP"), e.getMessage());
        k.mapFileErrno = 12;
        LinuxException nomem = assertThrows(LinuxException.class, () -> iommu.mapFile(0x80_0000, 42, 0, 0x20_0000));
        assertTrue(nomem.getMessage().contains("ulimit -l"), nomem.getMessage());
    }

    @Test
    void mapFileRefusesBadArgumentsAndAClosedContextBeforeAnyIoctl() {
        FakeIommufdKernel k = new FakeIommufdKernel();
        IommufdContext iommu = openedWithDevice(k);
        long[][] bad = {{-1, 0, 4096}, {42, -4096, 4096}, {42, 0, 0}, {42, 0, -4096}};
        for (long[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> iommu.mapFile(0x80_0000, (int) b[0], b[1], b[2]));
            assertTrue(e.getMessage().contains("fd " + b[0] + ", offset " + b[1] + ", size " + b[2]), e.getMessage());
        }
        iommu.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> iommu.mapFile(0x80_0000, 42, 0, 4096));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        assertFalse(k.ioctls.stream().anyMatch(i -> i.request() == IommufdUapi.IOMMU_IOAS_MAP_FILE), "no ioctl was made");
    }

    /** The context with 00:04.0 opened in it, as a session opens it. */
    private static IommufdContext openedWithDevice(FakeIommufdKernel k) {
        IommufdContext iommu = IommufdContext.open(k, address -> "/dev/vfio/devices/vfio0");
        iommu.openDevice(PciAddress.parse("00:04.0"));
        return iommu;
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    }
}
