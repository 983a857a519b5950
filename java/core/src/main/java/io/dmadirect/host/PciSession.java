package io.dmadirect.host;

import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.BarMapping;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.pci.PciDevice;
import io.dmadirect.pci.IommuContext;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaPlatform;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.hugepages.HugepageMemory;
import io.dmadirect.linux.hugepages.LowMemoryReport;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.hugepages.PagemapAccess;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Capability;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.sysfs.PciFunction;
import io.dmadirect.spi.SwiotlbConfig;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One PCI function opened for a userspace driver together with the DMA memory it uses: the
 * {@link PciDevice} (registers, interrupts) and the {@link DmaDevice} (masks, allocation), on a
 * platform in the device's address mode, chosen by the driver the function is bound to:
 * <ul>
 * <li>vfio-pci with an IOMMU group: IOVA mode, mapped through iommufd or the VFIO type1 container as
 * {@link LinuxPlatformOptions#iommu()} says (by default iommufd where the kernel offers it to this process);</li>
 * <li>vfio-pci in no-IOMMU mode ({@code /dev/vfio/noiommu-N}): PA mode;</li>
 * <li>uio_pci_generic: PA mode.</li>
 * </ul>
 * PA mode reads physical addresses from pagemap and so needs CAP_SYS_ADMIN (root); IOVA mode needs only
 * access to {@code /dev/vfio/N} (the udev rules give it to a group) and enough RLIMIT_MEMLOCK for the
 * memory the IOMMU pins. In a confidential VM guest allocations for the device are refused with the reason,
 * as on every Linux platform ({@link LinuxPlatformOptions#unencrypted()}).
 *
 * <p>Closing closes the device, the platform (freeing what the driver left) and the IOMMU context (container or
 * iommufd), in the order {@link #close()} gives. The session is safe to use from several threads as its
 * {@link DmaDevice} and {@link PciDevice} are; closing it while other threads still use it is safe too:
 * their operations finish or are refused with {@link io.dmadirect.DmaUsageException}, never run on freed
 * memory.
 */
public final class PciSession implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PciSession.class.getName());
    private static final String PREFIX = "pci/session: ";

    private final PciDevice pci;
    private final DirectPlatform platform;
    private final DmaDevice dma;
    private final IommuContext context;
    private final IovaMemory iovaMemory;
    private final HugepageMemory memory;
    private final PeerBars peerBars;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private PciSession(PciDevice pci, DirectPlatform platform, IommuContext context, IovaMemory iovaMemory,
            HugepageMemory memory, PciBus bus) {
        this.pci = pci;
        this.platform = platform;
        this.context = context;
        this.iovaMemory = iovaMemory;
        this.memory = memory;
        this.dma = platform.attach(DeviceProperties.simple(pci.address().toString()));
        this.peerBars = new PeerBars(pci.address().toString(), dma, iovaMemory, bus);
    }

    /**
     * Issue 21: memory for a device comes from the device's NUMA node first, as the kernel's {@code dev_to_node}
     * gives it for DMA memory, unless the options name a node; a device without one (numa_node -1) changes nothing.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/device.h">dev_to_node</a>
     */
    static HugepageOptions onDeviceNode(HugepageOptions hugepages, PciBus bus, PciAddress address) {
        if (hugepages.node() != HugepageOptions.ANY_NODE) {
            return hugepages;
        }
        int node = bus.device(address.toString()).map(PciFunction::numaNode).orElse(-1);
        return node < 0 ? hugepages : hugepages.withNode(node);
    }

    /** Where the session's hugepages lie by NUMA node, against the node they were asked from (the device's). */
    public io.dmadirect.linux.hugepages.NodePlacement numaPlacement() {
        return memory.placement();
    }

    /** Opens {@code address} with the real system calls and {@code /sys}, and {@link PciPlatforms#defaults()}. */
    public static PciSession open(PciAddress address, HugepageOptions memory) {
        return open(address, PciPlatforms.defaults().withHugepages(memory));
    }

    /**
     * As {@link #open(PciAddress, HugepageOptions)}, with the bounce pool set up as {@code bounce} says;
     * {@code SwiotlbConfig.processDefaults().withForce(true)} makes every streaming mapping bounce
     * ({@code swiotlb=force}), to test a driver's data path through bounce buffers.
     */
    public static PciSession open(PciAddress address, HugepageOptions memory, SwiotlbConfig bounce) {
        return open(address, PciPlatforms.defaults().withHugepages(memory).withBouncePool(bounce));
    }

    /**
     * Opens {@code address} with the platform set up as {@code options} say: memory, pools, bounce pool,
     * and whether DMA is forced unencrypted ({@code withUnencrypted(FORCE)} behaves as a confidential guest,
     * {@code DETECT} is the default). Start from {@link PciPlatforms#defaults()}.
     */
    public static PciSession open(PciAddress address, LinuxPlatformOptions options) {
        return open(LinuxSyscalls.instance(), Path.of("/sys"), address, options);
    }

    /** As {@link #open(PciAddress, LinuxPlatformOptions)}, through {@code sys} and the sysfs tree at {@code sysfs}. */
    public static PciSession open(Syscalls sys, Path sysfs, PciAddress address, LinuxPlatformOptions options) {
        return open(sys, sysfs, Path.of("/dev"), ProcessCapabilities.current(), address, options);
    }

    /**
     * The mode comes from sysfs before anything is opened, so that PA mode, which needs CAP_SYS_ADMIN for
     * pagemap, is refused with its remedy before the device or a hugepage is touched. IOVA mode needs no
     * capability: its memory is opened for the IOMMU, which pins it.
     */
    static PciSession open(Syscalls sys, Path sysfs, Path dev, ProcessCapabilities caps, PciAddress address,
            LinuxPlatformOptions options) {
        HostTree tree = HostTree.of(sysfs, dev);
        IommuChoice.Choice choice = IommuChoice.choose(options.iommu(), tree, address, IommuChoice::openable);
        requireCapabilities(choice, caps, address);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            // Tracked in this order so that a failure closes the device before the context it was opened in.
            PciBus bus = new PciBus(tree);
            HugepageOptions hugepages = onDeviceNode(options.hugepages(), bus, address);
            IommuContext context = track(opened, choice.open(sys, bus));
            PciDevice pci = track(opened, context.openDevice(address));
            LOG.log(Level.DEBUG, PREFIX + "{0} opened in {1}: {2}", address, context.name(), choice.why());
            String name = context.name() + " " + address;
            PciSession session;
            if (context.mode() == AddressMode.PA) {
                HugepageMemory memory = track(opened, HugepageMemory.open(hugepages, sys));
                session = new PciSession(pci, PciPlatforms.over(name, memory, options), context, null, memory, bus);
            } else {
                HugepageMemory memory = track(opened, HugepageMemory.openForIommu(hugepages, sys, caps));
                IovaMemory iova = track(opened, IovaMemory.map(memory, context.domain().orElseThrow(),
                        hugepages.zoneLayout(), sys::directView, options.iommuUnmapOnFreeInEffect()));
                session = new PciSession(pci, PciPlatforms.over(name, iova, options), context, iova, memory, bus);
            }
            LOG.log(Level.INFO, PREFIX + "{0} on {1}: {2} mode{3}; low-memory reserve: {4}", address, choice.driver(),
                    session.mode(), session.iommuName().map(n -> " through " + n).orElse(""),
                    session.lowMemoryReport());
            return session;
        } catch (RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * PA mode reads pagemap, which needs CAP_SYS_ADMIN; VFIO opens a no-IOMMU group only with CAP_SYS_RAWIO as
     * well. Checked before anything is opened, so the refusal comes with its remedy and nothing to undo.
     */
    private static void requireCapabilities(IommuChoice.Choice choice, ProcessCapabilities caps, PciAddress address) {
        if (choice.kind().mode != AddressMode.PA) {
            return;
        }
        boolean noIommu = choice.kind() == IommuChoice.Kind.VFIO_NOIOMMU;
        String paMode = "open " + address + " on " + choice.driver() + (noIommu ? " without an IOMMU" : "")
                + " (PA mode)";
        PagemapAccess.require(caps, paMode);
        if (noIommu && !caps.has(Capability.CAP_SYS_RAWIO)) {
            // vfio_group_fops_open() refuses a no-IOMMU group with EPERM to a process without it.
            throw LinuxException.setup(paMode, "this process lacks CAP_SYS_RAWIO, which VFIO requires to open a "
                    + "no-IOMMU group (/dev/vfio/noiommu-N)", "run as root, or use VFIO with an IOMMU (IOVA mode)");
        }
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> opened, T thing) {
        opened.add(thing);
        return thing;
    }

    public PciDevice pci() {
        return pci;
    }

    /** The DMA side of the device; masks start at 32 bits, the driver sets its own. */
    public DmaDevice dma() {
        return dma;
    }

    public DmaPlatform platform() {
        return platform;
    }

    public AddressMode mode() {
        return pci.addressMode();
    }

    /**
     * In IOVA mode, the kernel interface the memory is mapped through: {@code vfio-type1} or {@code iommufd}
     * ({@link LinuxPlatformOptions#iommu()} chooses); empty in PA mode.
     */
    public Optional<String> iommuName() {
        return mode() == AddressMode.IOVA ? Optional.of(context.name()) : Optional.empty();
    }

    /**
     * What the low-memory reserve of the options obtained when the session opened, as
     * {@code LinuxPlatform.lowMemoryReport()} says for a platform: in PA mode the memory below 4 GiB (and
     * 16 MiB) found for the device's zones; in IOVA mode nothing is taken, and the report says why.
     */
    public LowMemoryReport lowMemoryReport() {
        return memory.lowMemoryReport();
    }

    /** What each attempt of low memory on demand obtained for this session's device, in order (PA mode). */
    public java.util.List<LowMemoryReport> lowMemoryOnDemand() {
        return memory.onDemandReports();
    }

    /** In IOVA mode, the memory as mapped in the IOMMU (for checks such as "is this IOVA mapped?"). */
    public Optional<IovaMemory> iovaMemory() {
        return Optional.ofNullable(iovaMemory);
    }

    /**
     * {@code dma_map_resource()} of another device's BAR for this session's device: peer-to-peer DMA, such as a
     * DMA engine writing into an NVMe controller memory buffer. In PA mode the address is the BAR's physical
     * address (sysfs {@code resource}) plus {@code offset}, refused when the device's mask or bus limit does not
     * reach it ({@link DmaDevice#mapResource}). In IOVA mode the pages of the BAR's CPU mapping that hold the
     * range are mapped into this session's IOMMU domain at an IOVA within the device's mask and bus limit; VFIO
     * type1 maps such a {@code VM_PFNMAP} range, iommufd may refuse it (the exception says so, with the errno).
     * The peer may be open in another session (its own container): the mapping goes into this device's domain.
     *
     * @param peer      the device whose BAR is the DMA target; it must stay open while the mapping is used
     * @param bar       the BAR number, 0 to 5; a memory BAR (in IOVA mode, one VFIO lets this process mmap)
     * @param offset    the first byte of the BAR to map
     * @param size      bytes, at least 1, inside the BAR
     * @param direction who writes; not {@link io.dmadirect.DmaDirection#NONE}
     * @return the mapping, holding the DMA address; close it to unmap (the session's close unmaps it too)
     * @throws IllegalArgumentException for a BAR outside 0 to 5, a range outside the BAR, or a bad direction
     * @throws io.dmadirect.DmaMappingException when the device cannot reach the BAR (PA mode), no IOVA within its
     *                                          mask is free, the BAR is not mapped into this process, or the
     *                                          IOMMU refuses the mapping
     * @throws io.dmadirect.DmaUsageException   once the session is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_map_resource</a>
     */
    public BarMapping mapPeerBar(PciDevice peer, int bar, long offset, long size, io.dmadirect.DmaDirection direction) {
        return peerBars.map(peer, bar, offset, size, direction);
    }

    /**
     * Closes everything in the one safe order, under the contract of {@link DmaPlatform#close()}:
     * <ol>
     * <li>bus mastering off, so the device starts no new DMA into memory about to go;</li>
     * <li>the peer BARs this device mapped ({@link #mapPeerBar}) are unmapped, once calls running finish;</li>
     * <li>the platform: new DMA operations are refused, those running finish, what the driver left is freed,
     *     and the memory is unmapped from the IOMMU while the group still holds the container (once the last
     *     group leaves, VFIO drops the IOMMU and unmap fails with EINVAL), then given back; a CPU view kept
     *     past this reads zeros;</li>
     * <li>the device: interrupts' eventfds and BARs (a BAR access racing this reads zeros, and later ones
     *     throw), then its file;</li>
     * <li>the context the device was opened in (container or iommufd; nothing for UIO).</li>
     * </ol>
     * Idempotent and safe from several threads: later calls return at once. If the platform's close fails
     * (operations that never finished), the device and the IOMMU context are still closed and the failure
     * is thrown; the DMA memory then stays mapped in this process (leaked), never unmapped under an
     * operation.
     */
    @Override
    public void close() {
        if (closed.getAndSet(true)) {
            return;
        }
        try {
            try {
                pci.disableBusMaster();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, PREFIX + "failed to stop bus mastering: " + e.getMessage());
            }
            try {
                peerBars.close();
            } finally {
                platform.close();
            }
        } finally {
            try {
                pci.close();
            } finally {
                try {
                    context.close();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, PREFIX + "failed to close the IOMMU context: " + e.getMessage());
                }
            }
        }
    }
}
