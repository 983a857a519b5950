package io.dmadirect.linux.uio;

import io.dmadirect.linux.RetiredMapping;
import io.dmadirect.DmaUsageException;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Fcntl;
import io.dmadirect.linux.headers.Mman;
import io.dmadirect.linux.pci.FdInterrupt;
import io.dmadirect.linux.pci.ConfigRegionDevice;
import io.dmadirect.linux.pci.RegionIo;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import io.dmadirect.linux.pci.MappedMmioRegion;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A PCI function bound to {@code uio_pci_generic}: configuration space through sysfs {@code config},
 * BARs through sysfs {@code resourceN} mmap, and the INTx interrupt through {@code /dev/uioN} (a
 * 4-byte read returns the interrupt count). uio_pci_generic has no {@code irqcontrol} (a write to
 * {@code /dev/uioN} fails with ENOSYS): its handler masks the line with {@code PCI_COMMAND_INTX_DISABLE},
 * and userspace re-enables it by clearing that bit in configuration space. No IOMMU is in the way:
 * PA mode, DMA addresses are physical.
 *
 * @see <a href="https://docs.kernel.org/driver-api/uio-howto.html">The Userspace I/O HOWTO</a>
 */
public final class UioPciDevice extends ConfigRegionDevice {
    private static final System.Logger LOG = System.getLogger(UioPciDevice.class.getName());
    private static final String PREFIX = "pci/uio: ";
    /** {@code IORESOURCE_MEM} in sysfs {@code resource} flags. */
    private static final long IORESOURCE_MEM = 0x200;

    private final Syscalls sys;
    private final PciBus bus;
    private final PciAddress address;
    private final Path deviceDir;
    private final String uioNode;
    private final int configFd;
    private final RegionIo config;
    private final MmioRegion[] bars = new MmioRegion[6];
    private UioInterrupt interrupt;
    private boolean closed;

    private UioPciDevice(Syscalls sys, PciBus bus, PciAddress address, Path deviceDir, String uioNode, int configFd) {
        this.sys = sys;
        this.bus = bus;
        this.address = address;
        this.deviceDir = deviceDir;
        this.uioNode = uioNode;
        this.configFd = configFd;
        this.config = new RegionIo(sys, configFd, -1, 0, 4096, address + " config space");
    }

    /** Opens the device bound to uio_pci_generic, finding its node and files on {@code bus}. */
    public static UioPciDevice open(Syscalls sys, PciBus bus, PciAddress address) {
        Path dir = bus.deviceDir(address);
        String node = bus.uioNode(address).orElseThrow(() -> LinuxException.setup("open " + address + " through UIO",
                "it has no uio node under " + dir, "bind it to uio_pci_generic (echo uio_pci_generic > " + dir
                        + "/driver_override; echo " + address + " > /sys/bus/pci/drivers_probe)"));
        int fd = sys.open(dir.resolve("config").toString(), Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        UioPciDevice d = new UioPciDevice(sys, bus, address, dir, node, fd);
        LOG.log(Level.INFO, PREFIX + "opened {0} as /dev/{1}", address, node);
        return d;
    }

    @Override
    public PciAddress address() {
        return address;
    }

    @Override
    public String driver() {
        return "uio_pci_generic";
    }

    @Override
    public AddressMode addressMode() {
        return AddressMode.PA;
    }

    @Override
    protected RegionIo config() {
        return config;
    }

    @Override
    public synchronized MmioRegion bar(int index) {
        if (closed) {
            throw new DmaUsageException("failed to use " + address + ": the device is closed");
        }
        if (index < 0 || index > 5) {
            throw new DmaUsageException("failed to open BAR" + index + " of " + address + ": BARs are 0 to 5");
        }
        if (bars[index] == null) {
            bars[index] = mapBar(index);
        }
        return bars[index];
    }

    private MmioRegion mapBar(int index) {
        long[] res = resource(index);
        long size = res[1] - res[0] + 1;
        if (res[0] == 0 || (res[2] & IORESOURCE_MEM) == 0 || size > Integer.MAX_VALUE) {
            throw new DmaUsageException("failed to open BAR" + index + " of " + address
                    + ": it is not a memory BAR (sysfs resource line " + Long.toHexString(res[0]) + " "
                    + Long.toHexString(res[1]) + " " + Long.toHexString(res[2]) + ")");
        }
        int fd = sys.open(deviceDir.resolve("resource" + index).toString(), Fcntl.O_RDWR | Fcntl.O_SYNC
                | Fcntl.O_CLOEXEC, 0);
        try {
            long cpu = sys.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            return new MappedMmioRegion(index, sys.directView(cpu, (int) size), () -> RetiredMapping.replace(sys, cpu, size, "BAR" + index), cpu);
        } finally {
            sys.close(fd); // the mapping stays valid after close
        }
    }

    /** Line {@code index} of sysfs {@code resource}: start, end, flags. */
    private long[] resource(int index) {
        List<String> lines = bus.resourceLines(address);
        if (lines.isEmpty()) {
            throw LinuxException.setup("read the BARs of " + address, "cannot read " + deviceDir.resolve("resource"),
                    "check " + deviceDir + "/resource");
        }
        try {
            String[] f = lines.get(index).trim().split("\\s+");
            return new long[] {Long.decode(f[0]), Long.decode(f[1]), Long.decode(f[2])};
        } catch (RuntimeException e) {
            throw LinuxException.setup("read the BARs of " + address, e.toString(), "check " + deviceDir + "/resource");
        }
    }

    @Override
    public boolean canReset() {
        return false;
    }

    @Override
    public void reset() {
        throw new DmaUsageException("failed to reset " + address + ": UIO offers no reset; use vfio-pci");
    }

    @Override
    public int interruptCount(InterruptKind kind) {
        return kind == InterruptKind.INTX && readConfig8(0x3d) != 0 ? 1 : 0;
    }

    @Override
    public synchronized Interrupt enableInterrupt(InterruptKind kind, int vector) {
        if (kind != InterruptKind.INTX || vector != 0) {
            throw new DmaUsageException("failed to enable " + kind + " vector " + vector + " of " + address
                    + ": uio_pci_generic delivers only INTx; use vfio-pci for MSI and MSI-X");
        }
        if (interrupt == null) {
            interrupt = new UioInterrupt(sys, sys.open("/dev/" + uioNode, Fcntl.O_RDWR | Fcntl.O_NONBLOCK
                    | Fcntl.O_CLOEXEC, 0), config);
        }
        return interrupt;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (interrupt != null) {
                interrupt.close();
            }
            for (MmioRegion bar : bars) {
                if (bar instanceof MappedMmioRegion m) {
                    m.unmap();
                }
            }
        } finally {
            sys.close(configFd);
        }
    }

    /** {@code /dev/uioN}: read the count; the line is unmasked through PCI_COMMAND_INTX_DISABLE. */
    private static final class UioInterrupt implements Interrupt {
        private final Syscalls sys;
        private final int fd;
        private final RegionIo config;
        private long lastCount;
        private boolean closed;

        UioInterrupt(Syscalls sys, int fd, RegionIo config) {
            this.sys = sys;
            this.fd = fd;
            this.config = config;
            enable(1);
        }

        private void enable(int on) {
            int command = config.read16(PCI_COMMAND);
            config.write16(PCI_COMMAND, on != 0 ? command & ~COMMAND_INTX_DISABLE : command | COMMAND_INTX_DISABLE);
        }

        @Override
        public InterruptKind kind() {
            return InterruptKind.INTX;
        }

        @Override
        public int vector() {
            return 0;
        }

        @Override
        public synchronized long await(Duration timeout) {
            long total = FdInterrupt.await(() -> {
                ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
                sys.pread(fd, b, 0);
                return Integer.toUnsignedLong(b.getInt(0));
            }, timeout);
            if (total == 0) {
                return 0;
            }
            long delta = total - lastCount;
            lastCount = total;
            return Math.max(delta, 1);
        }

        /** Clears PCI_COMMAND_INTX_DISABLE, which uio_pci_generic's handler set when the line fired. */
        @Override
        public void rearm() {
            enable(1);
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                try {
                    enable(0);
                } finally {
                    sys.close(fd);
                }
            }
        }
    }
}
