package io.dmadirect.iova;

import io.dmadirect.Addresses;
import io.dmadirect.spi.IovaRange;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.spi.IommuDomain;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.spi.PhysicalMemory;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * IOVA mode as "the same policy over IOVAs": pinned memory (hugepages, by their CPU addresses) mapped
 * into the IOMMU at IOVAs we choose, presented as {@link PhysicalMemory} whose "physical" address is
 * the IOVA. The unchanged dma-direct allocator then places buffers by IOVA: its zones become IOVA
 * ranges, a mask is honoured by where memory is placed, and {@code DmaBuffer.dmaAddress()} is the IOVA.
 *
 * <p><b>Layout.</b> So that every zone the policy may ask for has memory, the pieces are placed in
 * tiers, each through the {@link IovaAllocator} inside the IOMMU's valid ranges:
 * <pre>
 *   [0, 4 MiB)            never mapped: IOVA 0 and small garbage addresses fault instead of hitting memory
 *   [4 MiB, 16 MiB)       "ZONE_DMA": up to 1/8 of the memory, at most 8 MiB
 *   [16 MiB, 4 GiB)       "ZONE_DMA32": half of the rest, from 16 MiB up (so 28-bit devices find it low),
 *                         around the interrupt window 0xfee00000-0xfeefffff the valid ranges exclude
 *   [4 GiB, ...)          "ZONE_NORMAL": the rest, and all later growth; anywhere valid if nothing fits there
 * </pre>
 *
 * <p><b>Chunks.</b> Source runs adjacent in the CPU's view are joined (when {@link CpuViews} is given)
 * and mapped as few large chunks, so 64 GiB of 2 MiB hugepages takes a handful of mappings, far below
 * VFIO type1's default {@code dma_entry_limit} of 65535. Each chunk is one {@link IommuDomain#map}.
 *
 * <p>The source's physical addresses are never used, so the Linux source is hugepage memory opened for
 * an IOMMU ({@code HugepageMemory.openForIommu}): no pagemap, no mlock, no root. Mapping pins the pages;
 * VFIO type1 counts them against RLIMIT_MEMLOCK.
 *
 * <p><b>Unmap at free (debug, {@code iommuUnmapOnFree}).</b> Made with {@code unmapOnFree}, the memory is placed
 * in IOVA space the same way but no chunk is mapped: each allocation of the page allocator over it ({@link
 * #pagesOver}) is mapped on its own when handed out and unmapped when freed ({@link AllocationMappings}), so a
 * device that still uses freed memory faults in the IOMMU. Memory nobody has allocated is unreachable too.
 *
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/drivers/vfio/vfio_iommu_type1.c">dma_entry_limit</a>
 */
public final class IovaMemory implements PhysicalMemory {
    private static final System.Logger LOG = System.getLogger(IovaMemory.class.getName());
    private static final String PREFIX = "iova/memory: ";
    /** IOVAs below this are never mapped. */
    public static final long GUARD = 4 * Sizes.MiB;
    private static final long DMA_TIER_MAX = 8 * Sizes.MiB;
    private static final long FOUR_GIB = 4 * Sizes.GiB;
    /** MMIO is mapped in whole pages of the smallest size an IOMMU maps. */
    private static final long MMIO_PAGE = 4096;

    private final PhysicalMemory source;
    private final IommuDomain iommu;
    private final ZoneLayout zones;
    private final CpuViews views;
    private final IovaAllocator iovas;
    private final long frameSize;
    private final List<MemoryRun> runs = new ArrayList<>();
    /** {@code runs.size()}, readable without the lock ({@link #runCount}). */
    private volatile int runCount;
    /** Live MMIO mappings ({@link #mapMmio}): IOVA to size, unmapped by {@link #close()} if still there. */
    private final TreeMap<Long, Long> mmio = new TreeMap<>();
    private final long systemMax;
    /** Per-allocation mappings when unmapping at free; null when the chunks are mapped whole (the default). */
    private final AllocationMappings allocations;
    private boolean closed;

    private IovaMemory(PhysicalMemory source, IommuDomain iommu, ZoneLayout zones, CpuViews views,
            boolean unmapOnFree) {
        this.source = source;
        this.iommu = iommu;
        this.zones = zones;
        this.views = views;
        this.frameSize = source.frameSize();
        List<IovaRange> valid = iommu.validRanges();
        this.iovas = new IovaAllocator(valid, GUARD);
        this.systemMax = valid.stream().mapToLong(IovaRange::last).max().orElseThrow();
        this.allocations = unmapOnFree ? new AllocationMappings(iommu) : null;
    }

    /**
     * Maps all of {@code source} into {@code iommu} with the tiered layout.
     *
     * @param views makes views over CPU memory so CPU-adjacent runs can be joined into one chunk; null
     *              maps every source run on its own
     * @throws DmaAllocationException when the valid ranges cannot hold the memory or the IOMMU would
     *         need more mappings than it allows
     */
    public static IovaMemory map(PhysicalMemory source, IommuDomain iommu, ZoneLayout zones, CpuViews views) {
        return map(source, iommu, zones, views, false);
    }

    /**
     * As {@link #map(PhysicalMemory, IommuDomain, ZoneLayout, CpuViews)}; with {@code unmapOnFree} the memory is
     * placed but mapped only allocation by allocation, through the page allocator of {@link #pagesOver}.
     */
    public static IovaMemory map(PhysicalMemory source, IommuDomain iommu, ZoneLayout zones, CpuViews views,
            boolean unmapOnFree) {
        IovaMemory memory = new IovaMemory(source, iommu, zones, views, unmapOnFree);
        try {
            memory.placeInitial(source.runs());
        } catch (RuntimeException e) {
            try {
                memory.unmapAll();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        LOG.log(Level.INFO, PREFIX + (unmapOnFree ? "placed {0} for {1} as {2} chunks, mapped allocation by "
                + "allocation (iommuUnmapOnFree): {3}" : "mapped {0} through {1} as {2} chunks: {3}"),
                Sizes.format(memory.mappedBytes()), iommu.name(), memory.runs.size(), memory.runs);
        return memory;
    }

    private void placeInitial(List<MemoryRun> sourceRuns) {
        List<Chunk> chunks = chunks(sourceRuns);
        long total = chunks.stream().mapToLong(c -> c.size).sum();
        long dma = total >= 8 * frameSize ? roundDown(Math.min(DMA_TIER_MAX, total / 8)) : 0;
        long dma32 = roundDown((total - dma) / 2);
        long dmaLast = zones.zoneDmaLimit();
        List<Tier> tiers = List.of(new Tier(GUARD, dmaLast, dma), new Tier(dmaLast + 1, FOUR_GIB - 1, dma32),
                new Tier(FOUR_GIB, Long.MAX_VALUE, Long.MAX_VALUE));
        checkMappingBudget(chunks.size() + tiers.size());
        int t = 0;
        for (Chunk c : chunks) {
            long offset = 0;
            while (offset < c.size) {
                while (tiers.get(t).budget == 0) {
                    t++;
                }
                Tier tier = tiers.get(t);
                long piece = Math.min(c.size - offset, tier.budget);
                long placed = place(c, offset, piece, tier);
                tier.budget -= placed;
                offset += placed;
            }
        }
    }

    /**
     * Maps {@code [offset, offset + size)} of {@code c} in {@code tier}, or as much of it as one free
     * stretch holds, falling back to any valid IOVA; returns the bytes placed.
     */
    private long place(Chunk c, long offset, long size, Tier tier) {
        for (long piece = size; piece >= frameSize; piece = roundDown(piece / 2)) {
            long iova = iovas.allocate(piece, frameSize, tier.first, tier.last);
            if (iova == Addresses.NONE && tier.last == Long.MAX_VALUE) {
                iova = iovas.allocate(piece, frameSize, 0, Long.MAX_VALUE);
            }
            if (iova != Addresses.NONE) {
                mapPiece(c, offset, piece, iova);
                return piece;
            }
        }
        if (tier.last != Long.MAX_VALUE) {
            tier.budget = 0; // this tier is full: the caller moves on to the next one
            return 0;
        }
        throw new DmaAllocationException("failed to place " + Sizes.format(size) + " of memory in IOVA space: "
                + "the valid ranges " + iovas.validRanges() + " have " + Sizes.format(iovas.freeBytes())
                + " free in pieces too small; use less memory or an IOMMU with a wider aperture");
    }

    private void mapPiece(Chunk c, long offset, long size, long iova) {
        if (allocations == null) {
            iommu.map(iova, c.cpuAddress + offset, size);
        }
        List<IovaRun.Part> parts = new ArrayList<>();
        for (IovaRun.Part p : c.parts) {
            long from = Math.max(p.offset(), offset);
            long to = Math.min(p.offset() + p.size(), offset + size);
            if (from < to) {
                parts.add(new IovaRun.Part(p.run(), p.sourceOffset() + from - p.offset(), from - offset, to - from));
            }
        }
        runs.add(new IovaRun(iova, size, c.cpuAddress + offset, parts, views));
        runCount = runs.size();
    }

    /** Joins source runs adjacent in the CPU's view (only when views can span them). */
    private List<Chunk> chunks(List<MemoryRun> sourceRuns) {
        List<MemoryRun> sorted = new ArrayList<>(sourceRuns);
        sorted.sort(Comparator.comparingLong(MemoryRun::cpuAddress));
        List<Chunk> out = new ArrayList<>();
        Chunk current = null;
        for (MemoryRun r : sorted) {
            if (current != null && views != null && current.cpuAddress + current.size == r.cpuAddress()) {
                current.parts.add(new IovaRun.Part(r, 0, current.size, r.size()));
                current.size += r.size();
            } else {
                current = new Chunk(r.cpuAddress());
                current.parts.add(new IovaRun.Part(r, 0, 0, r.size()));
                current.size = r.size();
                out.add(current);
            }
        }
        return out;
    }

    private void checkMappingBudget(int needed) {
        long available = iommu.mappingsAvailable();
        if (available < needed) {
            throw new DmaAllocationException("failed to map memory through " + iommu.name() + ": it needs up to "
                    + needed + " mappings and the IOMMU allows " + available + " more; raise vfio_iommu_type1's "
                    + "dma_entry_limit module parameter or use fewer, larger hugepage segments");
        }
    }

    @Override
    public long frameSize() {
        return frameSize;
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

    /** Grows the source and maps the new memory high (above 4 GiB where valid), as later memory is. */
    @Override
    public synchronized List<MemoryRun> grow(long minBytes) {
        if (closed) {
            return List.of();
        }
        List<MemoryRun> added = source.grow(minBytes);
        if (added.isEmpty()) {
            return List.of();
        }
        int before = runs.size();
        List<Chunk> chunks = chunks(added);
        checkMappingBudget(chunks.size());
        Tier high = new Tier(FOUR_GIB, Long.MAX_VALUE, Long.MAX_VALUE);
        for (Chunk c : chunks) {
            for (long offset = 0; offset < c.size; ) {
                offset += place(c, offset, c.size - offset, high);
            }
        }
        return List.copyOf(runs.subList(before, runs.size()));
    }

    /** IOVAs, not physical addresses: {@code dma_map_resource()} of a physical address is refused here. */
    @Override
    public boolean iommuTranslated() {
        return true;
    }

    /** The last valid IOVA: what {@code dma_get_required_mask()} must cover in this domain. */
    @Override
    public long systemMaxPhysAddress() {
        return systemMax;
    }

    /**
     * Whether {@code iova} lies in memory mapped by this object: placed memory, or with {@code unmapOnFree} only
     * memory a live allocation holds.
     */
    public synchronized boolean isMapped(long iova) {
        return allocations == null ? iovas.isAllocated(iova) : allocations.isMapped(iova) || mmioAt(iova);
    }

    private boolean mmioAt(long iova) {
        Map.Entry<Long, Long> m = mmio.floorEntry(iova);
        return m != null && iova - m.getKey() < m.getValue();
    }

    /** Whether this memory maps allocation by allocation and unmaps at free (the {@code iommuUnmapOnFree} option). */
    public boolean unmapsOnFree() {
        return allocations != null;
    }

    /**
     * The page allocator to run over this memory: {@code pages} itself, or with {@code unmapOnFree} one that maps
     * each allocation before handing it out and unmaps it at free ({@link UnmapOnFreePages}).
     */
    public PageAllocator pagesOver(PageAllocator pages) {
        return allocations == null ? pages : new UnmapOnFreePages(pages, this);
    }

    /**
     * Maps the allocation {@code [iova, iova + size)} of this memory (with {@code unmapOnFree}).
     *
     * @throws DmaAllocationException when the IOMMU refuses it (its mapping limit), nothing left mapped
     * @throws DmaUsageException      once this memory is closed
     */
    synchronized void mapAllocation(long iova, long size) {
        if (closed) {
            throw new DmaUsageException("failed to map an allocation through " + iommu.name() + ": the memory is closed");
        }
        allocations.map(iova, size, runs);
    }

    /**
     * Unmaps the allocation {@code [iova, iova + size)} before its memory is freed (with {@code unmapOnFree}). After
     * close there is nothing to do: close unmapped everything.
     */
    synchronized void unmapAllocation(long iova, long size) {
        if (closed) {
            return;
        }
        RuntimeException failure = allocations.unmap(iova, size);
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * The IOVA-mode half of {@code dma_map_resource()} ({@code iommu_dma_map_resource()}, an IOMMU mapping of
     * MMIO): maps {@code size} bytes that this process has mapped at {@code cpuAddress} (another device's BAR,
     * a {@code VM_PFNMAP} mapping) at an IOVA placed by the same allocator as the memory, whose last byte is at
     * most {@code limit} (the device's {@code min_not_zero(mask, bus limit)}).
     *
     * @param cpuAddress page-aligned start of the CPU mapping
     * @param size       bytes, a positive multiple of 4 KiB
     * @param limit      the last IOVA the mapping may touch
     * @return the IOVA of {@code cpuAddress}
     * @throws IllegalArgumentException when the address or size is not page-aligned
     * @throws DmaMappingException      when no free IOVA range below {@code limit} holds it, or the IOMMU refuses
     *                                  the mapping (its error, with errno, is in the message)
     * @throws DmaUsageException        once this memory is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/iommu/dma-iommu.c">iommu_dma_map_resource</a>
     */
    public synchronized long mapMmio(long cpuAddress, long size, long limit) {
        if (closed) {
            throw new DmaUsageException("failed to map MMIO through " + iommu.name() + ": the memory is closed");
        }
        if (size <= 0 || (size & (MMIO_PAGE - 1)) != 0 || (cpuAddress & (MMIO_PAGE - 1)) != 0) {
            throw new IllegalArgumentException("failed to map MMIO at " + Sizes.hex(cpuAddress) + " (" + size
                    + " bytes) through " + iommu.name() + ": address and size must be multiples of 4 KiB");
        }
        long iova = iovas.allocate(size, MMIO_PAGE, GUARD, limit);
        if (iova == Addresses.NONE) {
            throw new DmaMappingException("failed to map " + Sizes.format(size) + " of MMIO through " + iommu.name()
                    + ": no free IOVA range of that size ends at or below " + Sizes.hex(limit) + " (the device's mask "
                    + "and bus limit); free ranges: " + iovas.freeRanges());
        }
        try {
            iommu.map(iova, cpuAddress, size);
        } catch (RuntimeException e) {
            iovas.free(iova, size);
            DmaMappingException failure = new DmaMappingException("failed to map " + Sizes.format(size) + " of MMIO at "
                    + "CPU " + Sizes.hex(cpuAddress) + " to IOVA " + Sizes.hex(iova) + " through " + iommu.name() + ": "
                    + e.getMessage());
            failure.initCause(e);
            throw failure;
        }
        mmio.put(iova, size);
        LOG.log(Level.DEBUG, PREFIX + "MMIO at CPU {0} ({1}) mapped at IOVA {2}", Sizes.hex(cpuAddress),
                Sizes.format(size), Sizes.hex(iova));
        return iova;
    }

    /**
     * Removes a mapping made by {@link #mapMmio}.
     *
     * @throws DmaUsageException when {@code [iova, iova + size)} is not a live MMIO mapping (unmapped twice, never
     *                           mapped, or unmapped by {@link #close()})
     */
    public synchronized void unmapMmio(long iova, long size) {
        Long held = mmio.get(iova);
        if (held == null || held != size) {
            throw new DmaUsageException("failed to unmap MMIO at IOVA " + Sizes.hex(iova) + " (" + size + " bytes): "
                    + (closed ? "the memory is closed, which unmapped it" : "it is not a live MMIO mapping"
                    + (held == null ? "" : " of that size (held " + held + ")")));
        }
        mmio.remove(iova);
        try {
            iommu.unmap(iova, size);
        } finally {
            iovas.free(iova, size);
        }
    }

    /** How many MMIO mappings ({@link #mapMmio}) are live. */
    public synchronized int mmioMappingCount() {
        return mmio.size();
    }

    /** How many IOMMU mappings this memory holds (with {@code unmapOnFree}: those of live allocations). */
    public synchronized int mappingCount() {
        return allocations == null ? runs.size() : allocations.count();
    }

    public synchronized long mappedBytes() {
        return runs.stream().mapToLong(MemoryRun::size).sum();
    }

    /** Issue 21: CPU addresses are the source's, so is the node of the memory behind them. */
    @Override
    public java.util.OptionalInt numaNodeOf(long cpuAddress) {
        return source.numaNodeOf(cpuAddress);
    }

    @Override
    public java.util.OptionalInt preferredNumaNode() {
        return source.preferredNumaNode();
    }

    /** The IOMMU this memory is mapped through. */
    public IommuDomain iommu() {
        return iommu;
    }

    /** Unmaps everything, then closes the source memory. The IOMMU backend stays open (its owner closes it). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            unmapAll();
        } finally {
            source.close();
        }
    }

    private void unmapAll() {
        RuntimeException first = null;
        for (Map.Entry<Long, Long> m : mmio.entrySet()) {
            first = unmapRange(m.getKey(), m.getValue(), first);
        }
        mmio.clear();
        if (allocations != null) {
            RuntimeException e = allocations.unmapAll();
            first = first == null ? e : first;
            if (e != null && first != e) {
                first.addSuppressed(e);
            }
        }
        for (MemoryRun r : runs) {
            if (allocations == null) {
                first = unmapRange(r.frameBase(), r.size(), first);
            } else {
                iovas.free(r.frameBase(), r.size()); // placed, never mapped whole
            }
        }
        runs.clear();
        runCount = 0;
        if (first != null) {
            throw first;
        }
    }

    /** Unmaps and frees one range; returns the first failure so far (a later one is added to it as suppressed). */
    private RuntimeException unmapRange(long iova, long size, RuntimeException first) {
        try {
            iommu.unmap(iova, size);
            iovas.free(iova, size);
        } catch (RuntimeException e) {
            if (first == null) {
                return e;
            }
            first.addSuppressed(e);
        }
        return first;
    }

    private long roundDown(long bytes) {
        return bytes / frameSize * frameSize;
    }

    /** Memory contiguous in the CPU's view, made of source runs. */
    private static final class Chunk {
        final long cpuAddress;
        final List<IovaRun.Part> parts = new ArrayList<>();
        long size;

        Chunk(long cpuAddress) {
            this.cpuAddress = cpuAddress;
        }
    }

    /** An IOVA window and how many bytes still go into it. */
    private static final class Tier {
        final long first;
        final long last;
        long budget;

        Tier(long first, long last, long budget) {
            this.first = first;
            this.last = last;
            this.budget = budget;
        }
    }
}
