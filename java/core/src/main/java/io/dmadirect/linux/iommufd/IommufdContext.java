package io.dmadirect.linux.iommufd;

import io.dmadirect.spi.IovaRange;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Remedies;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Fcntl;
import io.dmadirect.linux.vfio.VfioPciDevice;
import io.dmadirect.linux.vfio.VfioUapi;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.spi.IommuDomain;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.IommuContext;
import io.dmadirect.pci.PciAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * iommufd ({@code /dev/iommu}) with the VFIO device cdev ({@code /dev/vfio/devices/vfioN}): one IO
 * address space (IOAS) that the device is bound and attached to, mapped with {@code IOMMU_IOAS_MAP}
 * at IOVAs we choose ({@code IOMMU_IOAS_MAP_FIXED_IOVA}). The iommufd with its IOAS is the {@link IommuContext};
 * the IOAS is its domain.
 *
 * <p><b>What has run where.</b> The rig's {@code iommufd} variant runs the whole HIL suite through it on
 * Linux 6.12 (edu and NVMe, MSI-X, a DMAR fault on an unmapped IOVA, as root and as nobody), and
 * {@code IommufdContextTest} checks every ioctl's bytes on the syscall seam. It needs Linux 6.6+ with
 * {@code CONFIG_IOMMUFD} and {@code CONFIG_VFIO_DEVICE_CDEV}; {@code PciSession} opens it through
 * {@code IommuChoice}.
 *
 * @see <a href="https://docs.kernel.org/userspace-api/iommufd.html">IOMMUFD</a>
 * @see <a href="https://docs.kernel.org/driver-api/vfio.html#vfio-device-cdev">VFIO device cdev</a>
 */
public final class IommufdContext implements IommuContext, IommuDomain {
    /** EMSGSIZE: the range array was too small (not in {@code headers.Errno}). */
    private static final int EMSGSIZE = 90;

    private final Syscalls sys;
    private final Function<PciAddress, String> cdevOf;
    private final int iommufd;
    private final int ioasId;
    private boolean closed;

    private IommufdContext(Syscalls sys, Function<PciAddress, String> cdevOf, int iommufd, int ioasId) {
        this.sys = sys;
        this.cdevOf = cdevOf;
        this.iommufd = iommufd;
        this.ioasId = ioasId;
    }

    /**
     * Opens {@code /dev/iommu} and allocates an IOAS ({@code IOMMU_IOAS_ALLOC}): the context, in which
     * {@link #openDevice} binds and attaches devices.
     *
     * @param cdevOf the node of a device's VFIO cdev ({@code /dev/vfio/devices/vfioN})
     */
    public static IommufdContext open(Syscalls sys, Function<PciAddress, String> cdevOf) {
        int iommufd;
        try {
            iommufd = sys.open("/dev/iommu", Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            throw e.errno() == Errno.ENOENT ? e.withRemedy("this kernel has no iommufd (needs 6.6+ with CONFIG_IOMMUFD); "
                    + "use the VFIO type1 container") : e;
        }
        try {
            ByteBuffer alloc = struct(IommufdUapi.SIZEOF_IOAS_ALLOC);
            sys.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_ALLOC, alloc);
            return new IommufdContext(sys, cdevOf, iommufd, alloc.getInt(8));
        } catch (RuntimeException e) {
            sys.close(iommufd);
            throw e;
        }
    }

    /**
     * Opens the device's cdev, binds it to this iommufd ({@code VFIO_DEVICE_BIND_IOMMUFD}) and attaches it to the
     * IOAS ({@code VFIO_DEVICE_ATTACH_IOMMUFD_PT}). On failure the cdev is closed again; the context stays open.
     */
    @Override
    public VfioPciDevice openDevice(PciAddress address) {
        String cdev = cdevOf.apply(address);
        int deviceFd = sys.open(cdev, Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        try {
            ByteBuffer bind = struct(VfioUapi.SIZEOF_BIND_IOMMUFD);
            bind.putInt(8, iommufd);
            try {
                sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_BIND_IOMMUFD, bind);
            } catch (LinuxException e) {
                throw bindRemedy(e, cdev, address);
            }
            ByteBuffer attach = struct(VfioUapi.SIZEOF_ATTACH_IOMMUFD_PT);
            attach.putInt(8, ioasId);
            sys.ioctl(deviceFd, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, attach);
            return VfioPciDevice.fromCdev(sys, address, deviceFd);
        } catch (RuntimeException e) {
            sys.close(deviceFd);
            throw e;
        }
    }

    /**
     * What a failed {@code VFIO_DEVICE_BIND_IOMMUFD} means. VFIO gives a device to one opener at a time: EINVAL
     * when the device is already open through a cdev ({@code vfio_df_open}), EBUSY when its group is open
     * through {@code /dev/vfio/N} ({@code vfio_device_block_group}), in this process or another.
     */
    static LinuxException bindRemedy(LinuxException e, String cdev, PciAddress address) {
        if (e.errno() == Errno.EINVAL) {
            return e.withRemedy(address + " is already open through " + cdev + " (by another session of this process "
                    + "or by another process): VFIO lets one opener at a time bind a device; close that first");
        }
        if (e.errno() == Errno.EBUSY) {
            return e.withRemedy("the IOMMU group of " + address + " is open through /dev/vfio/N (a VFIO type1 session "
                    + "of this process or another process holds it): VFIO gives a group to one opener at a time");
        }
        if (e.errno() == Errno.EPERM) {
            return e.withRemedy(Remedies.unisolatedMsi("iommufd"));
        }
        return e;
    }

    /** A struct of {@code size} zero bytes whose first u32 is its size, as every iommufd and VFIO argument. */
    static ByteBuffer struct(int size) {
        ByteBuffer b = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
        b.putInt(0, size);
        return b;
    }

    public int ioasId() {
        return ioasId;
    }

    @Override
    public String name() {
        return "iommufd";
    }

    @Override
    public AddressMode mode() {
        return AddressMode.IOVA;
    }

    /** This IOAS. */
    @Override
    public Optional<IommuDomain> domain() {
        return Optional.of(this);
    }

    /** {@code IOMMU_IOAS_IOVA_RANGES}, asked again with a larger array when the kernel answers EMSGSIZE. */
    @Override
    public List<IovaRange> validRanges() {
        int capacity = 8;
        for (int attempt = 0; attempt < 3; attempt++) {
            ByteBuffer array = ByteBuffer.allocateDirect(capacity * IommufdUapi.SIZEOF_IOVA_RANGE)
                    .order(ByteOrder.nativeOrder());
            ByteBuffer q = struct(IommufdUapi.SIZEOF_IOAS_IOVA_RANGES);
            q.putInt(4, ioasId).putInt(8, capacity).putLong(16, RawMemory.addressOf(array));
            try {
                sys.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_IOVA_RANGES, q);
            } catch (LinuxException e) {
                if (e.errno() == EMSGSIZE) {
                    capacity = q.getInt(8);
                    continue;
                }
                throw e;
            }
            int n = q.getInt(8);
            List<IovaRange> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(IovaRange.ofUnsigned(array.getLong(16 * i), array.getLong(16 * i + 8)));
            }
            return List.copyOf(out);
        }
        throw LinuxException.setup("read the IOVA ranges of IOAS " + ioasId, "the list keeps growing", null);
    }

    /** iommufd has no fixed limit on the number of mappings (only memlock accounting). */
    @Override
    public long mappingsAvailable() {
        return Long.MAX_VALUE;
    }

    /**
     * {@code IOMMU_IOAS_MAP} at a fixed IOVA, which pins the pages and charges them to the user's
     * RLIMIT_MEMLOCK; ENOMEM then usually means that limit, and says so.
     */
    @Override
    public void map(long iova, long cpuAddress, long size) {
        ByteBuffer m = struct(IommufdUapi.SIZEOF_IOAS_MAP);
        m.putInt(4, IommufdUapi.IOMMU_IOAS_MAP_FIXED_IOVA | IommufdUapi.IOMMU_IOAS_MAP_WRITEABLE
                | IommufdUapi.IOMMU_IOAS_MAP_READABLE);
        m.putInt(8, ioasId).putLong(16, cpuAddress).putLong(24, size).putLong(32, iova);
        try {
            sys.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_MAP, m);
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOMEM) {
                throw e.withRemedy(Remedies.iommuMapNoMemory());
            }
            throw e;
        }
    }

    /**
     * {@code IOMMU_IOAS_MAP_FILE} at a fixed IOVA (issue 21): pins {@code size} bytes of a memfd from byte
     * {@code start} without a user mapping of them, readable and writable by the device; undone by {@link #unmap}.
     * Linux 6.13+ only: an older iommufd answers ENOTTY, which the exception names with what to do instead.
     *
     * @param iova  the IOVA to map at (the IOMMU's alignment, see {@code IOMMU_IOAS_IOVA_RANGES})
     * @param memfd a memfd (hugetlbfs memfds included) open for reading and writing
     * @param start the byte offset in the file
     * @param size  the bytes to map, more than 0
     * @throws IllegalArgumentException for a negative descriptor or offset, or a size that is not positive
     * @throws IllegalStateException    when this context is closed
     * @throws LinuxException           what the kernel refused; ENOTTY: this kernel has no {@code MAP_FILE}
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/iommu/iommufd/ioas.c">iommufd_ioas_map_file</a>
     */
    public synchronized void mapFile(long iova, int memfd, long start, long size) {
        if (memfd < 0 || start < 0 || size <= 0) {
            throw new IllegalArgumentException("IOMMU_IOAS_MAP_FILE wants a memfd (>= 0), an offset >= 0 and a size > 0; "
                    + "got fd " + memfd + ", offset " + start + ", size " + size);
        }
        // Synchronized with close(): after it the descriptor number may already belong to another file.
        if (closed) {
            throw new IllegalStateException("IOMMU_IOAS_MAP_FILE on a closed iommufd context (IOAS " + ioasId + ")");
        }
        ByteBuffer m = struct(IommufdUapi.SIZEOF_IOAS_MAP_FILE);
        m.putInt(4, IommufdUapi.IOMMU_IOAS_MAP_FIXED_IOVA | IommufdUapi.IOMMU_IOAS_MAP_WRITEABLE
                | IommufdUapi.IOMMU_IOAS_MAP_READABLE);
        m.putInt(8, ioasId).putInt(12, memfd).putLong(16, start).putLong(24, size).putLong(32, iova);
        try {
            sys.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_MAP_FILE, m);
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOTTY) {
                throw e.withRemedy("IOMMU_IOAS_MAP_FILE needs Linux 6.13+ with iommufd; this kernel answered ENOTTY: "
                        + "map the memfd's user mapping with IOMMU_IOAS_MAP (map) instead");
            }
            if (e.errno() == Errno.ENOMEM) {
                throw e.withRemedy(Remedies.iommuMapNoMemory());
            }
            throw e;
        }
    }

    @Override
    public void unmap(long iova, long size) {
        ByteBuffer u = struct(IommufdUapi.SIZEOF_IOAS_UNMAP);
        u.putInt(4, ioasId).putLong(8, iova).putLong(16, size);
        sys.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_UNMAP, u);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            // Closing the descriptor destroys the IOAS with its mappings; IOMMU_DESTROY would fail with
            // EBUSY while the device is still attached. Close the device first.
            sys.close(iommufd);
        }
    }
}
