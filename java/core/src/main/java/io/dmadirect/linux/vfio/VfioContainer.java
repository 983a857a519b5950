package io.dmadirect.linux.vfio;

import io.dmadirect.Sizes;
import io.dmadirect.spi.IovaRange;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Remedies;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Fcntl;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.IommuContext;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.spi.IommuDomain;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * A VFIO container ({@code /dev/vfio/vfio}) with the type1 IOMMU, or the no-IOMMU driver for
 * {@code /dev/vfio/noiommu-N} groups. The IOMMU model is set when the first group joins, as VFIO
 * requires. As an {@link IommuContext} it opens devices through their groups, which join it; in type1 mode it is
 * its own {@link IommuDomain} (the domain), and maps with {@code VFIO_IOMMU_MAP_DMA}.
 *
 * @see <a href="https://docs.kernel.org/driver-api/vfio.html">VFIO</a>
 */
public final class VfioContainer implements IommuContext, IommuDomain {
    private static final System.Logger LOG = System.getLogger(VfioContainer.class.getName());
    private static final String PREFIX = "pci/vfio: ";

    private final Syscalls sys;
    private final PciBus bus;
    private final int fd;
    private final boolean noIommu;
    private Type1Info info;
    private boolean iommuSet;
    private boolean closed;

    private VfioContainer(Syscalls sys, PciBus bus, int fd, boolean noIommu) {
        this.sys = sys;
        this.bus = bus;
        this.fd = fd;
        this.noIommu = noIommu;
    }

    /**
     * Opens {@code /dev/vfio/vfio} and checks the API version and that the wanted IOMMU model exists.
     *
     * @param noIommu for groups of {@code /dev/vfio/noiommu-N}: no IOMMU, PA mode
     */
    public static VfioContainer open(Syscalls sys, boolean noIommu) {
        return open(sys, new PciBus(HostTree.HOST), noIommu);
    }

    /** As {@link #open(Syscalls, boolean)}, finding the devices' IOMMU groups on {@code bus}. */
    public static VfioContainer open(Syscalls sys, PciBus bus, boolean noIommu) {
        int fd;
        try {
            fd = sys.open("/dev/vfio/vfio", Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            throw e.withRemedy("load the vfio-pci module (modprobe vfio-pci) and check access to /dev/vfio/vfio");
        }
        VfioContainer c = new VfioContainer(sys, bus, fd, noIommu);
        try {
            int version = sys.ioctl(fd, VfioUapi.VFIO_GET_API_VERSION, 0);
            if (version != VfioUapi.VFIO_API_VERSION) {
                throw LinuxException.setup("open the VFIO container", "VFIO API version " + version
                        + ", expected " + VfioUapi.VFIO_API_VERSION, "use a kernel with the standard VFIO API");
            }
            int model = c.model();
            if (sys.ioctl(fd, VfioUapi.VFIO_CHECK_EXTENSION, model) <= 0) {
                throw LinuxException.setup("open the VFIO container", noIommu
                        ? "this kernel's VFIO has no no-IOMMU support" : "VFIO type1v2 IOMMU is not available",
                        noIommu ? "build vfio with CONFIG_VFIO_NOIOMMU and load it with enable_unsafe_noiommu_mode=1"
                                : "boot with the IOMMU on (intel_iommu=on or amd_iommu=on) and load vfio_iommu_type1");
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    int fd() {
        return fd;
    }

    public boolean noIommu() {
        return noIommu;
    }

    private int model() {
        return noIommu ? VfioUapi.VFIO_NOIOMMU_IOMMU : VfioUapi.VFIO_TYPE1v2_IOMMU;
    }

    /** Called by a group after {@code VFIO_GROUP_SET_CONTAINER}: the first group fixes the IOMMU model. */
    synchronized void groupAdded() {
        if (!iommuSet) {
            try {
                sys.ioctl(fd, VfioUapi.VFIO_SET_IOMMU, model());
            } catch (LinuxException e) {
                throw !noIommu && e.errno() == Errno.EPERM ? e.withRemedy(Remedies.unisolatedMsi("vfio_iommu_type1")) : e;
            }
            iommuSet = true;
            if (!noIommu) {
                info = readInfo();
                LOG.log(Level.INFO, PREFIX + "type1v2 container: page sizes {0}, valid IOVA {1}, {2} mappings available",
                        Sizes.hex(info.pageSizes()), info.validRanges(), info.dmaAvailable());
            }
        }
    }

    /** {@code VFIO_IOMMU_GET_INFO}, asked twice when the capabilities need more room than the first guess. */
    private Type1Info readInfo() {
        int size = 512;
        for (int attempt = 0; attempt < 2; attempt++) {
            ByteBuffer b = VfioStructs.withArgsz(size);
            sys.ioctl(fd, VfioUapi.VFIO_IOMMU_GET_INFO, b);
            int needed = b.getInt(0);
            if (needed <= size) {
                return Type1Info.parse(b);
            }
            size = needed;
        }
        throw LinuxException.setup("read VFIO IOMMU info", "the kernel keeps asking for a larger buffer", null);
    }

    /** The type1 info; after the first group joined. */
    public synchronized Type1Info info() {
        requireIommu("read the IOMMU info");
        return info;
    }

    @Override
    public String name() {
        return noIommu ? "vfio-noiommu" : "vfio-type1";
    }

    @Override
    public AddressMode mode() {
        return noIommu ? AddressMode.PA : AddressMode.IOVA;
    }

    /** Opens {@code address} through its group, which joins this container (the first fixes the IOMMU model). */
    @Override
    public VfioPciDevice openDevice(PciAddress address) {
        return VfioPciDevice.open(sys, bus, address, this);
    }

    /** This container in type1 mode; empty without an IOMMU. */
    @Override
    public Optional<IommuDomain> domain() {
        return noIommu ? Optional.empty() : Optional.of(this);
    }

    @Override
    public List<IovaRange> validRanges() {
        return info().validRanges();
    }

    @Override
    public long mappingsAvailable() {
        return info().dmaAvailable();
    }

    /**
     * {@code VFIO_IOMMU_MAP_DMA}, which also pins the pages; ENOMEM then usually means RLIMIT_MEMLOCK, and
     * says so.
     */
    @Override
    public void map(long iova, long cpuAddress, long size) {
        requireIommu("map DMA");
        try {
            sys.ioctl(fd, VfioUapi.VFIO_IOMMU_MAP_DMA, VfioStructs.dmaMap(cpuAddress, iova, size));
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOMEM) {
                throw e.withRemedy(Remedies.iommuMapNoMemory());
            }
            throw e;
        }
    }

    @Override
    public void unmap(long iova, long size) {
        requireIommu("unmap DMA");
        sys.ioctl(fd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, VfioStructs.dmaUnmap(iova, size));
    }

    private synchronized void requireIommu(String what) {
        if (noIommu || !iommuSet) {
            throw new IllegalStateException("failed to " + what + ": " + (noIommu
                    ? "a no-IOMMU container has no IOMMU; DMA addresses are physical (PA mode)"
                    : "no group has joined the container yet"));
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            sys.close(fd);
        }
    }
}
