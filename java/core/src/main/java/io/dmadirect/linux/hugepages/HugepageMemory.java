package io.dmadirect.linux.hugepages;

import io.dmadirect.Addresses;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.Sizes;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.spi.LowMemoryAttempt;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.spi.PhysicalMemory;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * Real pinned memory: hugepages of this host, taken in segments: one at open, one per {@link #grow}, and
 * one for the low-memory reserve. It is opened for one of the two address modes:
 * <ul>
 *   <li>{@link #open}, PA mode: each page is locked and its physical address read from pagemap once, at
 *       map time, and kept in a table. Runs are the pages that are physically and virtually adjacent.
 *       Needs CAP_SYS_ADMIN, which is checked before any hugepage is touched;</li>
 *   <li>{@link #openForIommu}, IOVA mode: no pagemap, no mlock, no root. Each segment is one run by
 *       virtual address, which {@code IovaMemory} maps into the IOMMU (pinning it there); the runs have no
 *       physical address ({@code frameBase()} throws) and {@link #physAddress} knows none.</li>
 * </ul>
 * Both need reserved hugepages and enough RLIMIT_MEMLOCK, and say how to get them when they are missing.
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/hugetlbpage.html">HugeTLB Pages</a>
 * @see <a href="https://docs.kernel.org/admin-guide/mm/pagemap.html">pagemap</a>
 */
public final class HugepageMemory implements PhysicalMemory {
    private static final System.Logger LOG = System.getLogger(HugepageMemory.class.getName());
    private static final String PREFIX = "linux/hugepages: ";
    /** The most one attempt of low memory on demand may take. */
    public static final long ON_DEMAND_TIME_LIMIT_NANOS = 60_000_000_000L;

    private final HugepageOptions options;
    private final HugepageAddressing addressing;
    private final Syscalls sys;
    private final HugepageSysfs sysfs;
    private final SegmentMapper mapper;
    private final long maxPages;
    private final long systemMaxPhysAddress;
    private final List<Segment> segments = new ArrayList<>();
    /** Issue 21: the pages' NUMA nodes against the node asked for, over all segments. */
    private NodePlacement placement = NodePlacement.NONE;
    /** Issue 21: each segment's pages' nodes by the segment's CPU address (only when a node was asked). */
    private final java.util.TreeMap<Long, int[]> pageNodes = new java.util.TreeMap<>();
    private final List<MemoryRun> runs = new ArrayList<>();
    /** {@code runs.size()}, readable without the lock ({@link #runCount}). */
    private volatile int runCount;
    private long generalPages;
    private LowMemoryReport lowMemoryReport;
    private final List<LowMemoryReport> onDemandReports = new ArrayList<>();
    private volatile AddressTable table = AddressTable.EMPTY;
    private volatile boolean closed;

    private HugepageMemory(HugepageOptions options, HugepageAddressing addressing, Syscalls sys, HugepageSysfs sysfs,
            ProcessCapabilities caps, SystemMemoryMap memoryMap) {
        this.options = options;
        this.addressing = addressing;
        this.sys = sys;
        this.sysfs = sysfs;
        this.mapper = new SegmentMapper(sys, sysfs, caps, options, addressing);
        this.maxPages = Math.max(options.maxBytes() / options.pageSize().bytes(),
                options.pagesFor(options.initialBytes()));
        this.systemMaxPhysAddress = memoryMap.highestRamAddress();
    }

    /** Takes the initial segment and, in PA mode, the low-memory reserve. */
    private synchronized void start() {
        mapper.requirePageSize();
        long initialPages = options.pagesFor(options.initialBytes());
        if (initialPages > 0) {
            addSegment(mapper.map(Math.toIntExact(initialPages), 0));
            generalPages = initialPages;
        }
        if (addressing == HugepageAddressing.PHYSICAL) {
            lowMemoryReport = new LowMemorySearch(sys, mapper, sysfs, options, FreeMemory.HOST)
                    .take(heldBytes(), this::addSegment);
        } else {
            // Low physical pages buy nothing here: the IOMMU places the memory at IOVAs below any mask.
            lowMemoryReport = LowMemoryReport.none(options.lowMemory(), options.lowMemory().wanted()
                    ? "not taken in IOVA mode, where the IOMMU places memory low by IOVA" : "");
        }
    }

    /** Opens hugepage memory for PA mode through the real system calls. */
    public static HugepageMemory open(HugepageOptions options) {
        Syscalls sys = LinuxSyscalls.instance();
        return open(options, sys);
    }

    /** Opens hugepage memory for PA mode through {@code sys}, with this host's sysfs, capabilities and memory map. */
    public static HugepageMemory open(HugepageOptions options, Syscalls sys) {
        return open(options, sys, HugepageSysfs.DEFAULT, ProcessCapabilities.current(),
                SystemMemoryMap.host(sys.pageSize()));
    }

    public static HugepageMemory open(HugepageOptions options, Syscalls sys, HugepageSysfs sysfs, ProcessCapabilities caps,
            SystemMemoryMap memoryMap) {
        PagemapAccess.require(caps, "open hugepage memory with physical addresses (PA mode)");
        return start(new HugepageMemory(options, HugepageAddressing.PHYSICAL, sys, sysfs, caps, memoryMap));
    }

    /**
     * Opens hugepage memory for an IOMMU to map by virtual address (IOVA mode), as a user without root
     * may: pagemap is not read and the pages are not mlocked, since mapping them into the IOMMU pins them.
     * RLIMIT_MEMLOCK is checked against what the IOMMU will pin ({@code caps} with CAP_IPC_LOCK lifts it).
     * The low-memory reserve of {@code options} is not taken.
     */
    public static HugepageMemory openForIommu(HugepageOptions options, Syscalls sys, ProcessCapabilities caps) {
        return openForIommu(options, sys, HugepageSysfs.DEFAULT, caps, SystemMemoryMap.host(sys.pageSize()));
    }

    static HugepageMemory openForIommu(HugepageOptions options, Syscalls sys, HugepageSysfs sysfs,
            ProcessCapabilities caps, SystemMemoryMap memoryMap) {
        return start(new HugepageMemory(options, HugepageAddressing.IOMMU, sys, sysfs, caps, memoryMap));
    }

    private static HugepageMemory start(HugepageMemory memory) {
        try {
            memory.start();
        } catch (RuntimeException e) {
            try {
                memory.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        LOG.log(Level.INFO, PREFIX + "holding {0} in {1} pages, {2} runs, for {3}; low-memory reserve: {4}; NUMA: {5}",
                Sizes.format(memory.heldBytes()), memory.options.pageSize(), memory.runs.size(),
                memory.addressing == HugepageAddressing.PHYSICAL ? "PA mode" : "an IOMMU", memory.lowMemoryReport,
                memory.placement());
        return memory;
    }

    /** Whether the physical addresses are known: opened by {@link #open} (PA mode), not {@link #openForIommu}. */
    public boolean hasPhysicalAddresses() {
        return addressing == HugepageAddressing.PHYSICAL;
    }

    @Override
    public long frameSize() {
        return options.pageSize().bytes();
    }

    @Override
    public synchronized List<MemoryRun> runs() {
        return closed ? List.of() : List.copyOf(runs);
    }

    /** {@inheritDoc} Without the lock or a copy. */
    @Override
    public int runCount() {
        return closed ? 0 : runCount;
    }

    /**
     * Maps another segment of at least {@code minBytes} (in whole pages), as far as the configured maximum
     * allows. Returns its runs, or nothing when the maximum is reached or the host has no more hugepages
     * or no more memlock allowance (logged with its remedy).
     */
    @Override
    public synchronized List<MemoryRun> grow(long minBytes) {
        if (closed) {
            return List.of();
        }
        long pages = Math.min(Math.max(options.pagesFor(minBytes), 1), maxPages - generalPages);
        if (pages <= 0) {
            LOG.log(Level.DEBUG, PREFIX + "not growing: the maximum of {0} is reached", Sizes.format(options.maxBytes()));
            return List.of();
        }
        Segment segment;
        try {
            segment = mapper.map(Math.toIntExact(pages), heldBytes());
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, PREFIX + "cannot grow: {0}", e.getMessage());
            return List.of();
        }
        generalPages += pages;
        return addSegment(segment);
    }

    /**
     * Low memory on demand, in PA mode: the low-memory reserve's mechanism (search the pool's free pages, then
     * a ballast) for pages wholly at or below {@code physLimit}, when a device's mask needs memory this process
     * does not hold. Bounded: at most {@link #ON_DEMAND_TIME_LIMIT_NANOS}, a ballast of at most the reserve's
     * {@code ballastBytes} (or, when that is 0, what the host has available above its 1 GiB floor), given back
     * before this returns. Below {@code 2^zone_dma_bits} only the pool's free pages are searched: the kernel's
     * lowmem_reserve keeps ZONE_DMA from hugepages, so a ballast cannot reach it. Logged, and kept in
     * {@link #onDemandReports()}.
     */
    @Override
    public synchronized LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        if (closed) {
            return LowMemoryAttempt.none("the memory is closed");
        }
        if (addressing != HugepageAddressing.PHYSICAL) {
            return LowMemoryAttempt.none("memory opened for an IOMMU has no physical addresses; the IOMMU places it "
                    + "below any mask by IOVA");
        }
        long pageSize = options.pageSize().bytes();
        long bytes = Math.max(options.pagesFor(minBytes), 1) * pageSize;
        long searchBytes = sysfs.availableHugepages(options.pageSize()) * pageSize;
        boolean zoneDma = Long.compareUnsigned(physLimit, options.zoneLayout().zoneDmaLimit()) <= 0;
        long ballast = options.lowMemory().ballastBytes() > 0 ? options.lowMemory().ballastBytes()
                : Math.max(0, FreeMemory.HOST.availableBytes() - LowMemorySearch.HOST_FLOOR_BYTES);
        LowMemoryQuota wanted = zoneDma ? new LowMemoryQuota(bytes, 0, searchBytes, 0)
                : new LowMemoryQuota(0, bytes, searchBytes, ballast);
        List<MemoryRun> added = new ArrayList<>();
        LowMemoryReport report = new LowMemorySearch(sys, mapper, sysfs, options, FreeMemory.HOST, wanted, physLimit,
                ON_DEMAND_TIME_LIMIT_NANOS).take(heldBytes(), segment -> {
                    List<MemoryRun> runs = addSegment(segment);
                    added.addAll(runs);
                    return runs;
                });
        onDemandReports.add(report);
        String tried = "low memory on demand below " + Sizes.hex(physLimit) + ": " + report;
        LOG.log(Level.INFO, PREFIX + tried);
        return new LowMemoryAttempt(added, report.nanos(), tried);
    }

    /** What each attempt of low memory on demand obtained, in order. */
    public synchronized List<LowMemoryReport> onDemandReports() {
        return List.copyOf(onDemandReports);
    }

    @Override
    public long systemMaxPhysAddress() {
        return systemMaxPhysAddress;
    }

    /**
     * The physical address of a CPU virtual address inside this memory, by table lookup: no system call,
     * no allocation, safe from any thread, a few nanoseconds. Returns {@link Addresses#NONE} for an address
     * this memory does not hold (or after close), and for every address of memory opened for an IOMMU. A
     * pagemap read does the same in about half a microsecond.
     */
    public long physAddress(long cpuAddress) {
        return table.physAddress(cpuAddress);
    }

    /** What the low-memory reserve obtained at open. */
    public LowMemoryReport lowMemoryReport() {
        return lowMemoryReport;
    }

    /**
     * {@return where the pages lie by NUMA node, against {@link HugepageOptions#node()}} Asked only when a node was
     * ({@link NodePlacement#NONE} otherwise); a fallback to other nodes is named there.
     */
    public synchronized NodePlacement placement() {
        return placement;
    }

    /**
     * Issue 21: the NUMA node of the hugepage holding {@code cpuAddress}, as {@code move_pages(2)} reported it when the
     * segment was taken; empty when no node was asked ({@link HugepageOptions#ANY_NODE}), the kernel did not say, or
     * the address is not in this memory.
     */
    @Override
    public synchronized java.util.OptionalInt numaNodeOf(long cpuAddress) {
        java.util.Map.Entry<Long, int[]> e = pageNodes.floorEntry(cpuAddress);
        if (e == null) {
            return java.util.OptionalInt.empty();
        }
        long page = (cpuAddress - e.getKey()) / options.pageSize().bytes();
        int[] nodes = e.getValue();
        return page < nodes.length && nodes[(int) page] >= 0 ? java.util.OptionalInt.of(nodes[(int) page])
                : java.util.OptionalInt.empty();
    }

    /** Issue 21: the node memory was asked from (the device's, as {@code dev_to_node}); empty for any node. */
    @Override
    public java.util.OptionalInt preferredNumaNode() {
        return options.node() == HugepageOptions.ANY_NODE ? java.util.OptionalInt.empty()
                : java.util.OptionalInt.of(options.node());
    }

    /** Bytes held in all segments, reserve included. */
    public synchronized long heldBytes() {
        long held = 0;
        for (Segment s : segments) {
            held += s.heldBytes();
        }
        return held;
    }

    /** Unmaps and closes every segment; the pages go back to the pool. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        table = AddressTable.EMPTY;
        RuntimeException first = null;
        for (Segment s : segments) {
            try {
                s.close(sys);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        segments.clear();
        pageNodes.clear();
        runs.clear();
        runCount = 0;
        if (first != null) {
            throw first;
        }
    }

    private synchronized List<MemoryRun> addSegment(Segment segment) {
        segments.add(segment);
        int[] nodes = mapper.pageNodesOf(segment.address(), segment.pages());
        if (nodes != null) {
            pageNodes.put(segment.address(), nodes);
            placement = placement.plus(NodePlacement.of(options.node(), nodes));
        }
        long pageSize = options.pageSize().bytes();
        if (!segment.translated()) {
            // One run by virtual address: the IOMMU maps it as one chunk whatever the physical layout.
            MemoryRun run = new HugepageRun(Addresses.NONE, segment.length(), segment.address(), sys,
                    () -> closed);
            runs.add(run);
            runCount = runs.size();
            return List.of(run);
        }
        long[] phys = new long[segment.pages()];
        boolean[] held = new boolean[segment.pages()];
        for (int i = 0; i < phys.length; i++) {
            phys[i] = segment.physAddress(i);
            held[i] = segment.held(i);
        }
        table = table.with(segment.address(), pageSize, tableEntries(phys, held));
        List<MemoryRun> added = new ArrayList<>();
        for (PageRuns.Span span : PageRuns.group(phys, held, pageSize)) {
            added.add(new HugepageRun(phys[span.first()], span.count() * pageSize, segment.cpuAddress(span.first()),
                    sys, () -> closed));
        }
        runs.addAll(added);
        runCount = runs.size();
        return List.copyOf(added);
    }

    private static long[] tableEntries(long[] phys, boolean[] held) {
        long[] entries = phys.clone();
        for (int i = 0; i < entries.length; i++) {
            if (!held[i]) {
                entries[i] = Addresses.NONE;
            }
        }
        return entries;
    }
}
