package io.dmadirect.host;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.direct.DmaDirect;
import io.dmadirect.direct.Lifecycle;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.BarMapping;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.pci.PciDevice;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The peer BARs one session's device has mapped ({@link PciSession#mapPeerBar}): {@code dma_map_resource()}
 * for a userspace driver. In PA mode the BAR's physical address comes from sysfs {@code resource} and
 * {@link DmaDevice#mapResource} checks it; in IOVA mode the BAR's CPU mapping is mapped into this session's
 * IOMMU domain (VFIO type1 accepts a {@code VM_PFNMAP} range; iommufd's {@code IOMMU_IOAS_MAP} pins pages and
 * may refuse it) at an IOVA within the device's mask. The devices need not share a container: the mapping goes
 * into the domain of the device that does the DMA, and the peer's BAR is only its target.
 *
 * <p>Operations enter a {@link Lifecycle}: after {@link #close()} a new mapping is refused with
 * {@link DmaUsageException}, and close unmaps what is left only once the operations running have finished.
 */
final class PeerBars implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PeerBars.class.getName());
    private static final String PREFIX = "pci/peer-bar: ";
    private static final long PAGE = 4096;

    private final String owner;
    private final DmaDevice dma;
    private final IovaMemory iova;
    private final PciBus bus;
    private final Lifecycle gate;
    private final Set<Mapping> live = ConcurrentHashMap.newKeySet();

    /**
     * @param iova the session's IOVA memory in IOVA mode, null in PA mode
     * @param bus  sysfs, for the BAR addresses of PA mode
     */
    PeerBars(String owner, DmaDevice dma, IovaMemory iova, PciBus bus) {
        this.owner = owner;
        this.dma = dma;
        this.iova = iova;
        this.bus = bus;
        this.gate = new Lifecycle(() -> "session " + owner);
    }

    BarMapping map(PciDevice peer, int bar, long offset, long size, DmaDirection direction) {
        checkArguments(peer, bar, offset, size, direction);
        int ticket = gate.enter("map a peer BAR");
        try {
            Mapping m = iova == null ? mapPhysical(peer, bar, offset, size, direction)
                    : mapThroughIommu(peer, bar, offset, size, direction);
            live.add(m);
            LOG.log(Level.INFO, PREFIX + "{0} BAR{1} [{2} + {3}] mapped for {4} at DMA {5}", peer.address(), bar,
                    Sizes.hex(offset), size, owner, Sizes.hex(m.dmaAddress));
            return m;
        } finally {
            gate.exit(ticket);
        }
    }

    private static void checkArguments(PciDevice peer, int bar, long offset, long size, DmaDirection direction) {
        if (peer == null) {
            throw new IllegalArgumentException("failed to map a peer BAR: no peer device given");
        }
        String what = "failed to map BAR" + bar + " of " + peer.address();
        if (bar < 0 || bar > 5) {
            throw new IllegalArgumentException(what + ": BARs are 0 to 5");
        }
        if (direction == null || direction == DmaDirection.NONE) {
            throw new IllegalArgumentException(what + ": direction " + direction + " (give TO_DEVICE, FROM_DEVICE or BIDIRECTIONAL)");
        }
        if (offset < 0 || size < 1) {
            throw new IllegalArgumentException(what + ": offset " + offset + " and size " + size
                    + " (the offset at least 0, the size at least 1)");
        }
    }

    /** PA mode: the BAR's physical address from sysfs, as the kernel's {@code pci_resource_start()}. */
    private Mapping mapPhysical(PciDevice peer, int bar, long offset, long size, DmaDirection direction) {
        long[] region = barResource(peer.address(), bar);
        checkInside(peer.address(), bar, offset, size, region[1]);
        long dmaAddress = dma.mapResource(Math.addExact(region[0], offset), size, direction);
        return new Mapping(peer.address(), bar, offset, size, direction, dmaAddress, () -> {
            try {
                dma.unmapResource(dmaAddress, size, direction);
            } catch (DmaUsageException closed) {
                // The device was closed first: dma-direct keeps nothing for a resource, so nothing is left to undo.
            }
        });
    }

    /** The start and size of BAR {@code bar} from sysfs {@code resource}: "start end flags" per line, in hex. */
    private long[] barResource(PciAddress peer, int bar) {
        List<String> lines = bus.resourceLines(peer);
        if (lines.size() <= bar) {
            throw new DmaMappingException("failed to map BAR" + bar + " of " + peer + ": sysfs resource of the device "
                    + "is unreadable or lists no such BAR");
        }
        String[] f = lines.get(bar).trim().split("\\s+");
        long start = Long.decode(f[0]);
        long end = Long.decode(f[1]);
        if (start == 0 && end == 0) {
            throw new DmaMappingException("failed to map BAR" + bar + " of " + peer + ": the device has no such BAR "
                    + "(sysfs resource lists it as unassigned)");
        }
        return new long[] {start, end - start + 1};
    }

    /** IOVA mode: the BAR's mmap into this session's IOMMU domain, whole pages, below the device's limit. */
    private Mapping mapThroughIommu(PciDevice peer, int bar, long offset, long size, DmaDirection direction) {
        MmioRegion region = peer.bar(bar);
        checkInside(peer.address(), bar, offset, size, region.size());
        OptionalLong cpu = region.cpuAddress();
        if (cpu.isEmpty()) {
            throw new DmaMappingException("failed to map BAR" + bar + " of " + peer.address() + " into "
                    + iova.iommu().name() + ": the BAR is not mapped into this process (VFIO offers it only through "
                    + "read/write, as for a BAR holding the MSI-X table, or the peer is closed), and an IOMMU maps "
                    + "only this process's mappings");
        }
        long first = offset & -PAGE;
        long end = roundUp(Math.addExact(offset, size));
        long limit = DmaDirect.minNotZero(dma.dmaMask().value(), dma.properties().busDmaLimit());
        long mapped;
        try {
            mapped = iova.mapMmio(cpu.getAsLong() + first, end - first, limit);
        } catch (DmaMappingException e) {
            if (!"iommufd".equals(iova.iommu().name())) {
                throw e;
            }
            DmaMappingException why = new DmaMappingException(e.getMessage() + ". iommufd's IOMMU_IOAS_MAP pins the "
                    + "range with pin_user_pages(), which refuses a BAR's VM_PFNMAP mapping (no struct page) in kernels "
                    + "without dma-buf import for VFIO; open the session with the VFIO type1 container "
                    + "(LinuxPlatformOptions.withIommu(VFIO_TYPE1)), which maps PFNMAP ranges");
            why.initCause(e);
            throw why;
        }
        long length = end - first;
        return new Mapping(peer.address(), bar, offset, size, direction, mapped + (offset - first), () ->
                iova.unmapMmio(mapped, length));
    }

    private static void checkInside(PciAddress peer, int bar, long offset, long size, long barSize) {
        if (offset >= barSize || size > barSize - offset) {
            throw new IllegalArgumentException("failed to map BAR" + bar + " of " + peer + ": [" + Sizes.hex(offset)
                    + " + " + size + ") is outside the BAR's " + barSize + " bytes");
        }
    }

    private static long roundUp(long bytes) {
        return Math.addExact(bytes, PAGE - 1) & -PAGE;
    }

    int liveCount() {
        return live.size();
    }

    /**
     * Refuses new mappings, waits for those being made or unmapped, then unmaps the rest. Idempotent.
     *
     * @throws DmaUsageException when running operations did not finish in time: nothing is unmapped then
     */
    @Override
    public void close() {
        if (!gate.close()) {
            return;
        }
        if (!gate.awaitQuiescence(Lifecycle.DEFAULT_WAIT_NANOS)) {
            throw new DmaUsageException("failed to unmap the peer BARs of " + owner + ": operations still ran after "
                    + TimeUnit.NANOSECONDS.toSeconds(Lifecycle.DEFAULT_WAIT_NANOS) + " s");
        }
        RuntimeException first = null;
        for (Mapping m : new ArrayList<>(live)) {
            try {
                m.release();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** One mapped peer BAR range; released once, by its close or the session's. */
    private final class Mapping implements BarMapping {
        private final PciAddress peer;
        private final int bar;
        private final long offset;
        private final long size;
        private final DmaDirection direction;
        private final long dmaAddress;
        private final Runnable unmap;
        private final AtomicBoolean released = new AtomicBoolean();

        Mapping(PciAddress peer, int bar, long offset, long size, DmaDirection direction, long dmaAddress,
                Runnable unmap) {
            this.peer = peer;
            this.bar = bar;
            this.offset = offset;
            this.size = size;
            this.direction = direction;
            this.dmaAddress = dmaAddress;
            this.unmap = unmap;
        }

        @Override
        public PciAddress peer() {
            return peer;
        }

        @Override
        public int bar() {
            return bar;
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public DmaDirection direction() {
            return direction;
        }

        @Override
        public long dmaAddress() {
            return dmaAddress;
        }

        @Override
        public boolean isClosed() {
            return released.get();
        }

        @Override
        public void close() {
            int ticket = gate.tryEnter();
            if (ticket < 0) {
                return; // the session's close unmapped it, or is doing so
            }
            try {
                release();
            } finally {
                gate.exit(ticket);
            }
        }

        void release() {
            if (released.compareAndSet(false, true)) {
                live.remove(this);
                unmap.run();
            }
        }

        @Override
        public String toString() {
            return "BarMapping[" + peer + " BAR" + bar + " + " + Sizes.hex(offset) + ", " + size + " bytes at DMA "
                    + Sizes.hex(dmaAddress) + (released.get() ? ", closed" : "") + "]";
        }
    }
}
