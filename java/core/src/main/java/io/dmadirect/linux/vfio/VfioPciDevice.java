package io.dmadirect.linux.vfio;

import io.dmadirect.linux.pci.ConfigRegionDevice;
import io.dmadirect.linux.pci.RegionIo;

import io.dmadirect.linux.RetiredMapping;
import io.dmadirect.DmaUsageException;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Mman;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import io.dmadirect.linux.pci.MappedMmioRegion;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A PCI function bound to vfio-pci, through its group: configuration space and BARs are VFIO regions
 * of the device descriptor, interrupts are eventfds.
 *
 * <p>BARs are mmapped when the region says {@code MMAP} and carries no capabilities. A BAR with
 * capabilities (in practice the sparse-mmap list of a BAR that also holds the MSI-X table) is reached
 * with {@code pread}/{@code pwrite} instead, which is always allowed and enough for doorbells.
 *
 * @see <a href="https://docs.kernel.org/driver-api/vfio.html">VFIO</a>
 */
public final class VfioPciDevice extends ConfigRegionDevice {
    private static final System.Logger LOG = System.getLogger(VfioPciDevice.class.getName());
    private static final String PREFIX = "pci/vfio: ";

    private final Syscalls sys;
    private final PciAddress address;
    private final VfioGroup group;
    private final int fd;
    private final boolean noIommu;
    private final int flags;
    private final RegionIo config;
    private final MmioRegion[] bars = new MmioRegion[6];
    private final List<Interrupt> interrupts = new ArrayList<>();
    private final Map<InterruptKind, VfioIrqIndex> irqIndexes = new EnumMap<>(InterruptKind.class);
    private boolean closed;

    private VfioPciDevice(Syscalls sys, PciAddress address, VfioGroup group, int fd, boolean noIommu) {
        this.sys = sys;
        this.address = address;
        this.group = group;
        this.fd = fd;
        this.noIommu = noIommu;
        ByteBuffer info = VfioStructs.withArgsz(VfioUapi.SIZEOF_DEVICE_INFO);
        sys.ioctl(fd, VfioUapi.VFIO_DEVICE_GET_INFO, info);
        this.flags = info.getInt(4);
        if ((flags & VfioUapi.VFIO_DEVICE_FLAGS_PCI) == 0) {
            throw LinuxException.setup("open " + address + " through VFIO", "VFIO says it is not a PCI device", null);
        }
        ByteBuffer cfg = regionInfo(VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX);
        this.config = new RegionIo(sys, fd, -1, cfg.getLong(24), cfg.getLong(16), address + " config space");
    }

    /**
     * The IOMMU group of {@code address}, from its sysfs {@code iommu_group} link; refused with the remedy when it
     * has none.
     */
    public static String iommuGroup(PciBus bus, PciAddress address) {
        return bus.iommuGroupOf(address).orElseThrow(() -> LinuxException.setup("find the IOMMU group of " + address,
                "no " + bus.deviceDir(address).resolve("iommu_group") + " (the device is missing or has no group)",
                "check the address, boot with the IOMMU on (intel_iommu=on), or use vfio no-IOMMU mode "
                        + "(vfio.enable_unsafe_noiommu_mode=1) or uio_pci_generic"));
    }

    /** Opens the device through its group, which joins {@code container}. */
    public static VfioPciDevice open(Syscalls sys, PciBus bus, PciAddress address, VfioContainer container) {
        String groupNumber = iommuGroup(bus, address);
        VfioGroup group = VfioGroup.open(sys, bus, groupNumber, container);
        try {
            int fd = group.deviceFd(address);
            try {
                VfioPciDevice d = new VfioPciDevice(sys, address, group, fd, container.noIommu());
                LOG.log(Level.INFO, PREFIX + "opened {0} ({1}:{2}) in group {3}{4}", address,
                        Integer.toHexString(d.vendorId()), Integer.toHexString(d.deviceId()), groupNumber,
                        container.noIommu() ? " (no-IOMMU)" : "");
                return d;
            } catch (RuntimeException e) {
                sys.close(fd);
                throw e;
            }
        } catch (RuntimeException e) {
            group.close();
            throw e;
        }
    }

    /**
     * A device whose descriptor was obtained without a group: the VFIO cdev
     * ({@code /dev/vfio/devices/vfioN}) after {@code VFIO_DEVICE_BIND_IOMMUFD}. Takes ownership of {@code fd}.
     */
    public static VfioPciDevice fromCdev(Syscalls sys, PciAddress address, int fd) {
        return new VfioPciDevice(sys, address, null, fd, false);
    }

    private ByteBuffer regionInfo(int index) {
        ByteBuffer b = VfioStructs.regionInfo(index, VfioUapi.SIZEOF_REGION_INFO);
        sys.ioctl(fd, VfioUapi.VFIO_DEVICE_GET_REGION_INFO, b);
        return b;
    }

    @Override
    public PciAddress address() {
        return address;
    }

    @Override
    public String driver() {
        return "vfio-pci";
    }

    @Override
    public AddressMode addressMode() {
        return noIommu ? AddressMode.PA : AddressMode.IOVA;
    }

    @Override
    protected RegionIo config() {
        return config;
    }

    @Override
    public synchronized MmioRegion bar(int index) {
        checkOpen();
        if (index < 0 || index > 5) {
            throw new DmaUsageException("failed to open BAR" + index + " of " + address + ": BARs are 0 to 5");
        }
        if (bars[index] == null) {
            bars[index] = openBar(index);
        }
        return bars[index];
    }

    private MmioRegion openBar(int index) {
        ByteBuffer info = regionInfo(index);
        int regionFlags = info.getInt(4);
        long size = info.getLong(16);
        long offset = info.getLong(24);
        if (size == 0) {
            throw new DmaUsageException("failed to open BAR" + index + " of " + address + ": the device has no such BAR");
        }
        boolean mappable = (regionFlags & VfioUapi.VFIO_REGION_INFO_FLAG_MMAP) != 0
                && (regionFlags & VfioUapi.VFIO_REGION_INFO_FLAG_CAPS) == 0 && size <= Integer.MAX_VALUE;
        if (!mappable) {
            LOG.log(Level.DEBUG, PREFIX + "{0} BAR{1}: flags 0x{2}, not mmapped; using pread/pwrite", address, index,
                    Integer.toHexString(regionFlags));
            return new RegionIo(sys, fd, index, offset, size, address + " BAR" + index);
        }
        long cpu = sys.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, offset);
        ByteBuffer view = sys.directView(cpu, (int) size);
        return new MappedMmioRegion(index, view, () -> RetiredMapping.replace(sys, cpu, size, "BAR" + index), cpu);
    }

    @Override
    public boolean canReset() {
        return (flags & VfioUapi.VFIO_DEVICE_FLAGS_RESET) != 0;
    }

    @Override
    public void reset() {
        checkOpen();
        if (!canReset()) {
            throw new DmaUsageException("failed to reset " + address + ": VFIO reports no reset method for it");
        }
        sys.ioctl(fd, VfioUapi.VFIO_DEVICE_RESET, 0);
    }

    @Override
    public int interruptCount(InterruptKind kind) {
        ByteBuffer b = VfioStructs.irqInfo(kind.vfioIndex());
        sys.ioctl(fd, VfioUapi.VFIO_DEVICE_GET_IRQ_INFO, b);
        return (b.getInt(4) & VfioUapi.VFIO_IRQ_INFO_EVENTFD) == 0 ? 0 : b.getInt(12);
    }

    @Override
    public synchronized Interrupt enableInterrupt(InterruptKind kind, int vector) {
        checkOpen();
        int count = interruptCount(kind);
        if (vector < 0 || vector >= count) {
            throw new DmaUsageException("failed to enable " + kind + " vector " + vector + " of " + address
                    + ": the device offers " + count);
        }
        for (Map.Entry<InterruptKind, VfioIrqIndex> other : irqIndexes.entrySet()) {
            if (other.getKey() != kind && other.getValue().hasOpenVectors()) {
                throw new DmaUsageException("failed to enable " + kind + " vector " + vector + " of " + address
                        + ": its " + other.getKey() + " interrupts are enabled, and VFIO enables one kind at a time;"
                        + " close them first");
            }
        }
        Interrupt irq = irqIndexes.computeIfAbsent(kind, k -> new VfioIrqIndex(sys, fd, k)).enable(vector);
        interrupts.add(irq);
        return irq;
    }

    private void checkOpen() {
        if (closed) {
            throw new DmaUsageException("failed to use " + address + ": the device is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        // Every interrupt and BAR is released even when one fails; the first failure is thrown at the end.
        for (Interrupt irq : interrupts) {
            failure = attempt(irq::close, failure);
        }
        for (MmioRegion bar : bars) {
            if (bar instanceof MappedMmioRegion m) {
                failure = attempt(m::unmap, failure);
            }
        }
        failure = attempt(() -> sys.close(fd), failure);
        if (group != null) {
            failure = attempt(group::close, failure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Runs {@code step}; returns the first failure so far (a later one is added to it as suppressed). */
    private static RuntimeException attempt(Runnable step, RuntimeException failure) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
        }
        return failure;
    }

    @Override
    public String toString() {
        return "VfioPciDevice[" + address + (noIommu ? ", no-IOMMU" : "") + "]";
    }
}
