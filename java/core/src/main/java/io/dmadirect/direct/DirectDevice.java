package io.dmadirect.direct;

import io.dmadirect.Addresses;
import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.NoncontiguousBuffer;
import io.dmadirect.ScatterList;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.dmapool.BlockPool;
import io.dmadirect.dmapool.PoolGeometry;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.pool.AtomicPools;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A device on the dma-direct platform: {@code dma_direct_alloc()}, {@code dma_direct_free()} and the
 * mask setters over a {@link DevicePolicy} that is replaced whole when a mask changes.
 */
final class DirectDevice implements DmaDevice {
    private static final long PAGE_SIZE = PageAllocator.PAGE_SIZE;
    private static final System.Logger LOG = System.getLogger("io.dmadirect.direct");

    private final DirectPlatform platform;
    private final PlatformParts parts;
    private final PageAllocator pages;
    private final DeviceProperties properties;
    private final BufferBacking pageBacking;
    private final BufferBacking swiotlbBacking;
    private final StreamingMapper streaming;
    private volatile DevicePolicy policy;
    /** Open/closed and the operations in flight: see {@link Lifecycle} and {@link DmaDevice}'s contract. */
    final Lifecycle gate;
    private final Object closeLock = new Object();
    /** {@code warn_alloc()}'s limit, 10 reports in 5 s; the kernel's is global, this one per device. */
    private final RateLimit allocationWarnings = new RateLimit(10, 5_000_000_000L);
    /** The live pools of this device ({@link #createPool}); its close closes them before it frees their pages. */
    private final Set<BlockPool> pools = ConcurrentHashMap.newKeySet();
    /**
     * The fallback steps of the live buffers that fell back (a lower zone, low memory on demand): kept here, not
     * in every buffer, because the fast path has none (issue 18); removed when the buffer is freed.
     */
    private final ConcurrentHashMap<CoherentBuffer, List<String>> fallbackSteps = new ConcurrentHashMap<>();

    DirectDevice(DirectPlatform platform, DeviceProperties properties) {
        this.platform = platform;
        this.parts = platform.parts;
        this.pages = parts.pages();
        this.properties = properties;
        this.gate = new Lifecycle(() -> "device " + properties.name());
        this.pageBacking = new PageBacking(pages);
        this.swiotlbBacking = platform.swiotlbAllocator == null ? null : new SwiotlbBacking(platform.swiotlbAllocator);
        this.policy = new DevicePolicy(DeviceDma.initial(properties, parts.encryption().encryptionMask(),
                parts.guestMemEncrypt()), parts.zones());
        this.streaming = new StreamingMapper(this, platform, properties.coherent());
    }

    DevicePolicy policy() {
        return policy;
    }

    @Override
    public String name() {
        return properties.name();
    }

    @Override
    public DeviceProperties properties() {
        return properties;
    }

    @Override
    public DmaMask dmaMask() {
        return policy.dma.dmaMask();
    }

    @Override
    public DmaMask coherentMask() {
        return policy.dma.coherentMask();
    }

    /** {@code dma_set_mask()}: refused with -EIO when {@code dma_direct_supported()} says no. */
    @Override
    public synchronized void setDmaMask(DmaMask mask) {
        Objects.requireNonNull(mask, "mask");
        int ticket = enter("set the DMA mask");
        try {
            checkSupported(mask);
            policy = new DevicePolicy(policy.dma.withDmaMask(mask), parts.zones());
        } finally {
            gate.exit(ticket);
        }
    }

    /** {@code dma_set_coherent_mask()}: the same support check as the streaming mask. */
    @Override
    public synchronized void setCoherentMask(DmaMask mask) {
        Objects.requireNonNull(mask, "mask");
        int ticket = enter("set the coherent DMA mask");
        try {
            checkSupported(mask);
            policy = new DevicePolicy(policy.dma.withCoherentMask(mask), parts.zones());
        } finally {
            gate.exit(ticket);
        }
    }

    private void checkSupported(DmaMask mask) {
        if (DmaDirect.supported(mask, lowestUsable())) {
            return;
        }
        // Low memory on demand: the kernel's driver would get ZONE_DMA32 or ZONE_DMA pages for this mask.
        long physLimit = DmaDirect.dmaToPhys(policy.dma, DmaDirect.minNotZero(mask.value(), policy.dma.busDmaLimit()));
        String tried = LowMemoryOnDemand.applies(physLimit)
                ? platform.obtainBelow(physLimit, parts.memory().frameSize(), name()).tried()
                : "nothing obtained on demand: the mask reaches past 4 GiB";
        long lowest = lowestUsable();
        if (!DmaDirect.supported(mask, lowest)) {
            String floor = lowest == DmaDirect.DMA_MAPPING_ERROR
                    ? "the device's dma-ranges cover none of the memory the platform holds"
                    : "the lowest memory the device reaches (through its dma-ranges, if any) ends at DMA "
                    + Sizes.hex(lowest) + ", beyond the mask";
            throw new DmaMaskUnsupportedException("failed to set DMA mask " + mask + " on " + name()
                    + ": " + floor + " (dma_direct_supported); " + tried + ". "
                    + LowMemoryOnDemand.remedy(mask, parts.zones()));
        }
    }

    /**
     * The DMA end of the lowest memory the device reaches through its dma-ranges, a bounce pool within the
     * mask making it usable for streaming DMA; {@link DmaDirect#DMA_MAPPING_ERROR} when it reaches none.
     */
    private long lowestUsable() {
        long lowest = platform.lowestDmaEnd(policy.dma);
        if (platform.swiotlbAllocator != null) {
            lowest = lowerOf(lowest, DmaDirect.physToDmaUnencrypted(policy.dma, platform.swiotlbAllocator.lastPhysAddress()));
        }
        return lowest;
    }

    private static long lowerOf(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    @Override
    public DmaMask requiredMask() {
        return DmaDirect.requiredMask(policy.dma, parts.memory().systemMaxPhysAddress());
    }

    @Override
    public boolean forcedUnencrypted() {
        return policy.forceUnencrypted;
    }

    @Override
    public DmaBuffer allocCoherent(long size, DmaAttr... attrs) {
        return alloc(size, DmaAttr.flags(attrs));
    }

    /** The same, with the attributes as {@link DmaAttr#flags} bits: no array per call. */
    @Override
    public DmaBuffer allocCoherent(long size, int attrs) {
        return alloc(size, attrs);
    }

    /** The backing a {@link BufferFacts} kind names. */
    BufferBacking backing(int kind) {
        switch (kind) {
            case BufferFacts.PAGES:
                return pageBacking;
            case BufferFacts.POOL:
                return platform.poolBacking;
            default:
                return swiotlbBacking;
        }
    }

    // --- issue 21 (rig-breadth): the NUMA node of a buffer's memory, for its allocation report ---
    /** The platform's memory, which knows the NUMA node of its pages when it was asked for one. */
    io.dmadirect.spi.PhysicalMemory physicalMemory() {
        return parts.memory();
    }
    // --- end issue 21 ---

    /** The fallback steps of {@code buffer}'s allocation; empty on the fast path, and once it is freed. */
    List<String> stepsOf(CoherentBuffer buffer) {
        List<String> steps = buffer.hasSteps() ? fallbackSteps.get(buffer) : null;
        return steps == null ? List.of() : steps;
    }

    /** Builds the facts of a buffer about to be made, keeping its steps beside it when it fell back. */
    private static int facts(int backing, Zone zone, DevicePolicy p, AllocationPath path, AllocationSteps steps,
            boolean cpuMapped, boolean decrypted, DmaDirection pagesDir) {
        return BufferFacts.of(backing, zone, p.zoneChoice.zone(), path, cpuMapped, decrypted,
                steps != null && !steps.list().isEmpty(), pagesDir);
    }

    /** Registers a buffer's steps (when it fell back) before anyone but the allocating thread sees it. */
    private CoherentBuffer withSteps(CoherentBuffer buffer, AllocationSteps steps) {
        if (buffer.hasSteps()) {
            fallbackSteps.put(buffer, steps.list());
        }
        return buffer;
    }

    /**
     * {@code dma_direct_alloc()} inside the device's gate: the memory is zeroed and the buffer registered
     * with its allocator before close can collect (issue 15 findings 1 and 3).
     */
    DmaBuffer alloc(long size, int attrs) {
        int ticket = enter("allocate DMA memory");
        try {
            return allocEntered(size, attrs);
        } finally {
            gate.exit(ticket);
        }
    }

    /** {@code dma_direct_alloc()}, with the branches in the kernel's order. */
    private DmaBuffer allocEntered(long size, int attrs) {
        long aligned = DmaDirect.pageAlign(size, PAGE_SIZE);
        DevicePolicy p = policy;
        boolean mayBlock = !DmaAttr.ATOMIC.in(attrs);

        if (DmaDirect.allocNoMapping(p.dma, DmaAttr.NO_KERNEL_MAPPING.in(attrs))) {
            return allocPages(p, size, aligned, mayBlock, attrs, false, null);
        }
        if (p.dma.restrictedPool()) {
            return allocSwiotlb(p, size, aligned, attrs, null);
        }
        checkCanShare(p, size, null);
        if (DmaDirect.allocFromPool(p.dma, mayBlock)) {
            return allocFromPool(p, size, aligned, attrs, null);
        }
        return allocPages(p, size, aligned, mayBlock, attrs, true, null);
    }

    /**
     * {@code dma_direct_alloc_pages()}, with the branches in the kernel's order: the atomic pool only for memory that
     * must be shared (nothing is remapped), the bounce pool of a restricted device, then the pages of
     * {@code __dma_direct_alloc_pages()}, decrypted and zeroed over the page-aligned size, with no cache work.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_alloc_pages</a>
     */
    private CoherentBuffer allocPagesEntered(long size, DmaDirection pagesDir, int attrs) {
        long aligned = DmaDirect.pageAlign(size, PAGE_SIZE);
        DevicePolicy p = policy;
        boolean mayBlock = !DmaAttr.ATOMIC.in(attrs);

        if (DmaDirect.allocPagesFromPool(p.dma, mayBlock)) {
            return allocFromPool(p, size, aligned, attrs, pagesDir);
        }
        if (p.dma.restrictedPool()) {
            return allocSwiotlb(p, size, aligned, attrs, pagesDir);
        }
        checkCanShare(p, size, pagesDir);
        return allocPages(p, size, aligned, mayBlock, attrs, true, pagesDir);
    }

    private void checkCanShare(DevicePolicy p, long size, DmaDirection pagesDir) {
        if (p.forceUnencrypted && !parts.encryption().canShare()) {
            // Nothing was allocated, so nothing leaks: the kernel would have converted the pages instead.
            throw failure(pagesDir, p, size, "the device needs shared (unencrypted) memory and this "
                    + "platform cannot share memory with devices (a process cannot convert pages the way the "
                    + "kernel's set_memory_decrypted() does)", null, pages.stats());
        }
    }

    /**
     * The failure of a coherent allocation ({@code pagesDir} null) or of a {@code dma_alloc_pages()} one;
     * {@code steps} null when none were taken.
     */
    private DmaAllocationException failure(DmaDirection pagesDir, DevicePolicy p, long size, String what,
            AllocationSteps steps, MemoryStats stats) {
        return AllocationFailure.of(name(), pagesDir == null ? "coherent" : "non-coherent", p, size, what,
                steps == null ? new AllocationSteps() : steps, stats);
    }

    /**
     * {@code warn_alloc()}: the page allocator reports a failed allocation unless the gfp holds {@code __GFP_NOWARN},
     * which {@code dma_direct_alloc()} sets for {@code DMA_ATTR_NO_WARN} and a {@code dma_alloc_pages()} caller passes
     * itself ({@link DmaAttr#NO_WARN} here for both). Only the page allocator warns: an exhausted atomic or bounce
     * pool fails silently in the kernel, and here too. The exception is thrown either way.
     */
    private DmaAllocationException warned(DmaAllocationException e, int attrs) {
        if (!DmaAttr.NO_WARN.in(attrs) && allocationWarnings.allow()) {
            LOG.log(System.Logger.Level.WARNING, "direct: " + e.getMessage());
        }
        return e;
    }

    /**
     * How many bytes a new allocation zeroes: {@code dma_direct_alloc()} clears the size asked, and
     * {@code dma_direct_alloc_pages()} the page-aligned size it was given by {@code __dma_alloc_pages()}.
     */
    private static long zeroedBytes(long size, long aligned, DmaDirection pagesDir) {
        return pagesDir == null ? size : aligned;
    }

    /**
     * The pages of {@link DirectPages}: its first, optimistic try takes no notes, so the common allocation makes no
     * object but the buffer; only when that try fails is the whole walk run again with its steps written down.
     */
    private CoherentBuffer allocPages(DevicePolicy p, long size, long aligned, boolean mayBlock, int attrs,
            boolean cpuMapped, DmaDirection pagesDir) {
        AllocationSteps steps = null;
        long handle = DirectPages.firstTry(p, pages, aligned);
        if (handle == PageAllocator.NO_PAGES) {
            steps = new AllocationSteps();
            handle = DirectPages.alloc(p, pages, parts.zones(), aligned, mayBlock, steps);
            if (handle == PageAllocator.NO_PAGES && mayBlock) {
                handle = LowMemoryOnDemand.allocAfterObtaining(platform, p, parts.zones(), aligned, steps, name());
            }
            if (handle == PageAllocator.NO_PAGES) {
                throw warned(failure(pagesDir, p, size, "no memory within the device's reach is free", steps,
                        pages.stats()), attrs);
            }
        }
        long phys = pages.physAddress(handle);
        long cpu = pages.cpuAddress(handle);
        long reserved = pages.byteSize(handle);
        boolean decrypted = false;
        if (cpuMapped && p.forceUnencrypted) {
            // dma_set_decrypted(): on failure the pages' state is unknown, so they are leaked, never reused.
            if (!parts.encryption().setDecrypted(phys, reserved)) {
                platform.leaked(reserved, "dma_set_decrypted failed for " + Sizes.hex(phys) + " of " + name());
                throw failure(pagesDir, p, size, "making the memory shared failed (set_memory_decrypted); "
                        + Sizes.format(reserved) + " were leaked on purpose", steps, pages.stats());
            }
            decrypted = true;
        }
        if (cpuMapped && !DmaAttr.SKIP_ZEROING.in(attrs)) {
            RawMemory.fill(cpu, zeroedBytes(size, aligned, pagesDir), (byte) 0);
        }
        if (p.remap && pagesDir == null) {
            // arch_dma_prep_coherent(): no dirty line of the CPU's alias may later overwrite device data.
            parts.caches().flush(cpu, reserved);
        }
        AllocationPath path = aligned > pages.maxPagesBytes() ? AllocationPath.CONTIGUOUS : AllocationPath.PAGES;
        CoherentBuffer buffer = withSteps(new CoherentBuffer(this, handle, p.physToDma(phys), size,
                facts(BufferFacts.PAGES, pages.zone(handle), p, path, steps, cpuMapped, decrypted, pagesDir)), steps);
        pages.setOwner(handle, buffer);
        return buffer;
    }

    /**
     * {@code dma_direct_alloc_from_pool()}: pool memory is already clean and shared. The kernel gives it
     * {@code phys_to_dma_direct()}, which matches the memory's state for every device that reaches the pool
     * there (on x86, where SME exists, only forced-unencrypted ones do); here a non-coherent device is not
     * forced, so the address of memory known to be shared is made without the encryption bit, as swiotlb's is.
     */
    private CoherentBuffer allocFromPool(DevicePolicy p, long size, long aligned, int attrs, DmaDirection pagesDir) {
        boolean shared = platform.poolMemoryShared();
        long handle = platform.pools.alloc(p.zoneChoice.zone(), aligned,
                (phys, bytes) -> DmaDirect.withinLimit(poolDma(p, phys, shared), bytes, p.coherentLimit));
        if (handle == AtomicPools.NONE) {
            AllocationSteps steps = new AllocationSteps();
            steps.add("atomic pools: nothing free that the device can reach within one 256 KiB run");
            throw failure(pagesDir, p, size, "the caller cannot block and the atomic pools are exhausted",
                    steps, pages.stats());
        }
        long phys = platform.pools.physAddress(handle);
        long cpu = platform.pools.cpuAddress(handle);
        if (!DmaAttr.SKIP_ZEROING.in(attrs)) {
            RawMemory.fill(cpu, zeroedBytes(size, aligned, pagesDir), (byte) 0);
        }
        long dma = poolDma(p, phys, shared);
        CoherentBuffer buffer = new CoherentBuffer(this, handle, dma, size, facts(BufferFacts.POOL,
                platform.pools.zone(handle), p, AllocationPath.ATOMIC_POOL, null, true, false, pagesDir));
        platform.pools.setOwner(handle, buffer);
        return buffer;
    }

    private static long poolDma(DevicePolicy p, long phys, boolean shared) {
        return shared ? DmaDirect.physToDmaUnencrypted(p.dma, phys) : p.physToDma(phys);
    }

    /**
     * {@code dma_direct_alloc_swiotlb()} and the rest of {@code dma_direct_alloc()} for a restricted device:
     * {@code swiotlb_alloc()} aligned to the size's order, kept only when {@code dma_coherent_ok()}, zeroed,
     * and for a non-coherent device cleaned from the caches ({@code arch_dma_prep_coherent()}, as the kernel
     * does before it remaps the memory uncached).
     *
     * <p>The bounce pool was made shared when it was set up, so the DMA address is
     * {@code phys_to_dma_unencrypted()} (see docs/kernel-map.md, "Memory known to be shared"); coherent_ok is
     * checked on that same address, the one the device is given.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_alloc_swiotlb</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_alloc</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_alloc</a>
     */
    private CoherentBuffer allocSwiotlb(DevicePolicy p, long size, long aligned, int attrs, DmaDirection pagesDir) {
        SwiotlbAllocator swiotlb = platform.swiotlbAllocator;
        if (swiotlb == null) {
            throw failure(pagesDir, p, size,
                    "the device is restricted to a bounce pool and the platform has none", null, pages.stats());
        }
        long handle = swiotlb.alloc(aligned, p.physToDmaUnencrypted);
        if (handle == SwiotlbAllocator.NONE) {
            throw failure(pagesDir, p, size, "the restricted bounce pool is full", null, pages.stats());
        }
        long phys = swiotlb.physAddress(handle);
        long dma = DmaDirect.physToDmaUnencrypted(p.dma, phys);
        if (!DmaDirect.withinLimit(dma, aligned, p.coherentLimit)) {
            swiotlb.free(handle);
            throw failure(pagesDir, p, size, "the bounce pool lies beyond the device's coherent limit",
                    null, pages.stats());
        }
        long cpu = swiotlb.cpuAddress(handle);
        if (!DmaAttr.SKIP_ZEROING.in(attrs)) {
            RawMemory.fill(cpu, zeroedBytes(size, aligned, pagesDir), (byte) 0);
        }
        if (p.remap && pagesDir == null) {
            // arch_dma_prep_coherent(): no dirty line of the CPU's alias may later overwrite device data.
            parts.caches().flush(cpu, aligned);
        }
        CoherentBuffer buffer = new CoherentBuffer(this, handle, dma, size, facts(BufferFacts.SWIOTLB,
                parts.zones().zoneOf(phys), p, AllocationPath.SWIOTLB, null, true, false, pagesDir));
        swiotlb.setOwner(handle, buffer);
        return buffer;
    }

    /** {@code dma_direct_free()}. */
    @Override
    public void freeCoherent(DmaBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        CoherentBuffer coherent = ownBuffer(buffer);
        int ticket = enter("free a buffer");
        try {
            free(coherent);
        } finally {
            gate.exit(ticket);
        }
    }

    /** The attributes {@code dma_alloc_pages()}'s gfp and dmadirect's own zeroing choice can say. */
    private static final int PAGES_ATTRS = DmaAttr.flags(DmaAttr.ATOMIC, DmaAttr.SKIP_ZEROING, DmaAttr.NO_WARN);
    /** {@code dma_alloc_noncontiguous()} refuses every DMA attribute but {@code DMA_ATTR_ALLOC_SINGLE_PAGES}. */
    private static final int NONCONTIGUOUS_ATTRS = PAGES_ATTRS | DmaAttr.flags(DmaAttr.ALLOC_SINGLE_PAGES);

    /** {@code dma_alloc_pages()}. */
    @Override
    public NoncoherentBuffer allocPages(long size, DmaDirection direction, DmaAttr... attrs) {
        return allocPagesBuffer(size, direction, pagesFlags("allocPages", direction, attrs, PAGES_ATTRS), false);
    }

    /** {@code dma_free_pages()}. */
    @Override
    public void freePages(NoncoherentBuffer buffer) {
        freePagesBuffer(buffer, false);
    }

    /** {@code dma_alloc_noncontiguous()}: {@code alloc_single_sgt()}, as for every dma-direct device. */
    @Override
    public NoncontiguousBuffer allocNoncontiguous(long size, DmaDirection direction, DmaAttr... attrs) {
        return allocPagesBuffer(size, direction, pagesFlags("allocNoncontiguous", direction, attrs, NONCONTIGUOUS_ATTRS),
                true);
    }

    /** {@code dma_free_noncontiguous()}: {@code free_single_sgt()}. */
    @Override
    public void freeNoncontiguous(NoncontiguousBuffer buffer) {
        freePagesBuffer(buffer, true);
    }

    /** Checks the arguments the kernel would WARN_ON and refuse, before anything is allocated. */
    private static int pagesFlags(String call, DmaDirection direction, DmaAttr[] attrs, int allowed) {
        Objects.requireNonNull(direction, "direction");
        if (direction == DmaDirection.NONE) {
            throw new IllegalArgumentException("failed to " + call + ": direction NONE cannot be synced; give the "
                    + "direction the device will use (TO_DEVICE, FROM_DEVICE or BIDIRECTIONAL)");
        }
        int flags = DmaAttr.flags(attrs);
        for (DmaAttr attr : DmaAttr.values()) {
            if (attr.in(flags) && !attr.in(allowed)) {
                throw new IllegalArgumentException("failed to " + call + ": attribute " + attr + " does not apply to "
                        + "this call (the kernel's takes " + (call.equals("allocPages") ? "only a gfp: ATOMIC"
                        : "only DMA_ATTR_ALLOC_SINGLE_PAGES and a gfp: ATOMIC") + "; SKIP_ZEROING and NO_WARN are "
                        + "accepted too)");
            }
        }
        return flags;
    }

    private PagesBuffer allocPagesBuffer(long size, DmaDirection direction, int flags, boolean noncontiguous) {
        int ticket = enter("allocate non-coherent DMA memory");
        try {
            return new PagesBuffer(allocPagesEntered(size, direction, flags), noncontiguous);
        } finally {
            gate.exit(ticket);
        }
    }

    private void freePagesBuffer(NoncoherentBuffer buffer, boolean noncontiguous) {
        Objects.requireNonNull(buffer, "buffer");
        PagesBuffer own = ownPages(buffer, noncontiguous);
        int ticket = enter("free non-coherent DMA memory");
        try {
            free(own.memory);
        } finally {
            gate.exit(ticket);
        }
    }

    private PagesBuffer ownPages(NoncoherentBuffer buffer, boolean noncontiguous) {
        if (!(buffer instanceof PagesBuffer) || ((PagesBuffer) buffer).memory.device != this) {
            throw new DmaUsageException("failed to free " + buffer + " through device " + name() + ": it was allocated by "
                    + (buffer instanceof PagesBuffer ? "another device" : "no dmadirect device"));
        }
        PagesBuffer own = (PagesBuffer) buffer;
        if (own.noncontiguous != noncontiguous) {
            throw new DmaUsageException("failed to free " + buffer + ": it was allocated with "
                    + (own.noncontiguous ? "allocNoncontiguous; free it with freeNoncontiguous"
                    : "allocPages or allocNoncoherent; free it with freePages or freeNoncoherent"));
        }
        return own;
    }

    /**
     * {@code dma_sync_single_range_for_device()} / {@code _for_cpu()} of pages memory, inside the gate so that no
     * cache maintenance runs on memory the device's close is freeing: {@code arch_sync_dma_for_*()} for a device
     * that does not snoop caches, nothing for one that does. Memory from the bounce pool (a restricted device) has
     * no original to copy, so {@code swiotlb_sync_single_for_*()} adds nothing either.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_sync_single_for_device</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_sync_single_for_cpu</a>
     */
    void syncPages(PagesBuffer buffer, long offset, long length, boolean forDevice) {
        String what = forDevice ? "sync non-coherent DMA memory for the device" : "sync non-coherent DMA memory for the CPU";
        int ticket = enter(what);
        try {
            CoherentBuffer memory = buffer.memory;
            if (memory.isFreed()) {
                throw new DmaUsageException("failed to " + what + ": " + buffer + " has been freed");
            }
            if (offset < 0 || length < 1 || offset > memory.size() - length) {
                throw new DmaUsageException("failed to " + what + ": [" + offset + ", " + offset + " + " + length
                        + ") is not inside the buffer's " + memory.size() + " bytes");
            }
            if (properties.coherent()) {
                return;
            }
            long cpu = memory.backing().cpuAddress(memory.handle) + offset;
            if (forDevice) {
                ArchSync.forDevice(parts.caches(), cpu, length, memory.pagesDirection());
            } else {
                ArchSync.forCpu(parts.caches(), cpu, length, memory.pagesDirection());
            }
        } finally {
            gate.exit(ticket);
        }
    }

    /** {@link CoherentBuffer#cpuView()} inside the gate, so no view is handed out of memory being freed. */
    ByteBuffer cpuView(CoherentBuffer buffer) {
        int ticket = enter("give a CPU view of a buffer");
        try {
            if (buffer.isFreed()) {
                throw new DmaUsageException("failed to give a CPU view of " + buffer + ": it has been freed");
            }
            return buffer.backing().cpuView(buffer.handle, (int) buffer.size());
        } finally {
            gate.exit(ticket);
        }
    }

    private CoherentBuffer ownBuffer(DmaBuffer buffer) {
        if (!(buffer instanceof CoherentBuffer) || ((CoherentBuffer) buffer).device != this) {
            throw new DmaUsageException("failed to free " + buffer + " through device " + name()
                    + ": it was allocated by " + (buffer instanceof CoherentBuffer ? "another device" : "no dmadirect device"));
        }
        return (CoherentBuffer) buffer;
    }

    private void free(CoherentBuffer coherent) {
        if (!coherent.markFreed()) {
            throw new DmaUsageException("failed to free " + coherent + ": it was already freed (double free)");
        }
        release(coherent);
    }

    private void release(CoherentBuffer buffer) {
        if (buffer.hasSteps()) {
            fallbackSteps.remove(buffer);
        }
        BufferBacking backing = buffer.backing();
        if (buffer.decrypted()) {
            long phys = buffer.physAddress();
            if (!parts.encryption().setEncrypted(phys, buffer.allocatedSize())) {
                // dma_set_encrypted() failed: the memory may still be shared, so it must never be reused.
                if (backing == pageBacking) {
                    pages.setOwner(buffer.handle, null);
                }
                platform.leaked(buffer.allocatedSize(), "dma_set_encrypted failed for " + Sizes.hex(phys)
                        + " of " + name());
                return;
            }
        }
        backing.free(buffer.handle);
    }

    /** {@code dma_direct_to_page()} turned into the buffer that owns the page. */
    @Override
    public Optional<DmaBuffer> findBuffer(long dmaAddress) {
        int ticket = enter("look up a buffer");
        try {
            return findBufferEntered(dmaAddress);
        } finally {
            gate.exit(ticket);
        }
    }

    private Optional<DmaBuffer> findBufferEntered(long dmaAddress) {
        long phys = DmaDirect.dmaToPhys(policy.dma, dmaAddress);
        if (phys == Addresses.NONE) {
            return Optional.empty();
        }
        Object owner = pages.ownerAt(phys);
        if (owner == platform.pools) {
            owner = platform.pools.ownerAt(phys);
        } else if (owner == null && platform.swiotlbAllocator != null) {
            // The bounce pool's memory is one allocation of the page allocator, with no owner.
            owner = platform.swiotlbAllocator.ownerAt(phys);
        }
        if (owner instanceof CoherentBuffer) {
            CoherentBuffer buffer = (CoherentBuffer) owner;
            long offset = dmaAddress - buffer.dmaAddress();
            if (buffer.device == this && buffer.pagesDirection() == null && !buffer.isFreed() && offset >= 0
                    && offset < buffer.allocatedSize()) {
                return Optional.of(buffer);
            }
        }
        return Optional.empty();
    }

    /**
     * {@code dma_pool_create()}: registered inside the gate, so that close, which waits for the gate to drain,
     * sees every pool and closes it before it frees the pool's pages with the device's other buffers.
     */
    @Override
    public DmaPool createPool(String name, long size, long align, long boundary) {
        Objects.requireNonNull(name, "name");
        PoolGeometry geometry = PoolGeometry.of(size, align, boundary);
        int ticket = enter("create a DMA pool");
        try {
            BlockPool pool = new BlockPool(this, name, geometry, BlockPool.debugFromSystem(), pools::remove);
            pools.add(pool);
            return pool;
        } finally {
            gate.exit(ticket);
        }
    }

    // The streaming calls enter the gate inside StreamingMapper, and only on the paths that touch memory
    // (cache maintenance, bounce copies, slots): a direct mapping of a coherent device is addresses only,
    // so a read of the closed state gives it the same contract without the gate's two atomics.

    /** The attributes of a map call, refused up front where the kernel's {@code dma_map_phys()} refuses them. */
    private int mapAttrs(int attrs) {
        return (attrs & RequireCoherent.BIT) == 0 ? attrs : RequireCoherent.checkDevice(streaming.coherent, attrs, name());
    }

    @Override
    public DmaMapping map(ByteBuffer buffer, DmaDirection direction) {
        return streaming.map(buffer, direction, 0);
    }

    @Override
    public DmaMapping map(ByteBuffer buffer, DmaDirection direction, DmaAttr... attrs) {
        return streaming.map(buffer, direction, mapAttrs(DmaAttr.flags(attrs)));
    }

    @Override
    public DmaMapping map(byte[] array, int offset, int length, DmaDirection direction, DmaAttr... attrs) {
        return streaming.map(array, offset, length, direction, mapAttrs(DmaAttr.flags(attrs)));
    }

    @Override
    public ScatterList mapSg(List<ByteBuffer> buffers, DmaDirection direction, DmaAttr... attrs) {
        int ticket = enter("map a scatter list");
        try {
            return streaming.mapSg(buffers, direction, mapAttrs(DmaAttr.flags(attrs)));
        } finally {
            gate.exit(ticket);
        }
    }

    @Override
    public void unmap(DmaMapping mapping) {
        streaming.unmap(mapping, 0, false);
    }

    @Override
    public void unmap(DmaMapping mapping, DmaAttr... attrs) {
        streaming.unmap(mapping, DmaAttr.flags(attrs), false);
    }

    /**
     * {@link DmaMapping#close()}: like {@link #unmap}, but a quiet no-op once the device is closed, which
     * released every mapping (a driver's try-with-resources must not throw during shutdown).
     */
    void closeMapping(StreamingMapping mapping, int attrs) {
        streaming.unmap(mapping, attrs, true);
    }

    /** {@link ScatterList#close()}: a quiet no-op once the device is closed, as {@link #closeMapping}. */
    void closeScatterList(MappedScatterList list, DmaAttr[] attrs) {
        int ticket = gate.tryEnter();
        if (ticket < 0) {
            list.markUnmapped();
            return;
        }
        try {
            streaming.unmapSg(list, attrs);
        } finally {
            gate.exit(ticket);
        }
    }

    @Override
    public void syncForCpu(DmaMapping mapping, DmaDirection direction) {
        // Not through the four-argument method: the agent watches each public entry once.
        streaming.syncForCpu(mapping, 0, mapping.size(), direction);
    }

    @Override
    public void syncForCpu(DmaMapping mapping, long offset, long length, DmaDirection direction) {
        streaming.syncForCpu(mapping, offset, length, direction);
    }

    @Override
    public void syncForDevice(DmaMapping mapping, DmaDirection direction) {
        streaming.syncForDevice(mapping, 0, mapping.size(), direction);
    }

    @Override
    public void syncForDevice(DmaMapping mapping, long offset, long length, DmaDirection direction) {
        streaming.syncForDevice(mapping, offset, length, direction);
    }

    @Override
    public long maxMappingSize() {
        return streaming.maxMappingSize();
    }

    @Override
    public void setMinAlignMask(long mask) {
        int ticket = enter("set min_align_mask");
        try {
            streaming.setMinAlignMask(mask);
        } finally {
            gate.exit(ticket);
        }
    }

    @Override
    public long minAlignMask() {
        return streaming.minAlignMask();
    }

    @Override
    public Optional<DmaMapping> findMapping(long dmaAddress) {
        int ticket = enter("look up a mapping");
        try {
            return streaming.findMapping(dmaAddress);
        } finally {
            gate.exit(ticket);
        }
    }

    // ---- The primitive streaming API and the device's DMA limits (issue 17): the gate is taken inside
    // PrimitiveStreaming and StreamingMapper where memory is touched, as for the object API above.

    @Override
    public long mapSingle(ByteBuffer buffer, int offset, int length, DmaDirection direction, int attrs) {
        return streaming.primitive.mapSingle(buffer, offset, length, direction, mapAttrs(attrs));
    }

    @Override
    public long mapSingle(long cpuAddress, long size, DmaDirection direction, int attrs) {
        return streaming.primitive.mapSingle(cpuAddress, size, direction, mapAttrs(attrs));
    }

    @Override
    public void unmapSingle(long dmaAddress, long size, DmaDirection direction, int attrs) {
        streaming.primitive.unmapSingle(dmaAddress, size, direction, attrs, false);
    }

    @Override
    public void syncSingleForCpu(long dmaAddress, long size, DmaDirection direction) {
        streaming.primitive.syncSingleForCpu(dmaAddress, size, direction);
    }

    @Override
    public void syncSingleForDevice(long dmaAddress, long size, DmaDirection direction) {
        streaming.primitive.syncSingleForDevice(dmaAddress, size, direction);
    }

    @Override
    public int mapSg(ByteBuffer[] buffers, int nents, DmaDirection direction, int attrs, long[] dmaAddressesOut) {
        return streaming.primitive.mapSg(buffers, nents, direction, mapAttrs(attrs), dmaAddressesOut);
    }

    @Override
    public void unmapSg(long[] dmaAddresses, int[] lengths, int nents, DmaDirection direction, int attrs) {
        streaming.primitive.unmapSg(dmaAddresses, lengths, nents, direction, attrs);
    }

    @Override
    public void syncSgForCpu(long[] dmaAddresses, int[] lengths, int nents, DmaDirection direction) {
        streaming.primitive.syncSg(dmaAddresses, lengths, nents, direction, true);
    }

    @Override
    public void syncSgForDevice(long[] dmaAddresses, int[] lengths, int nents, DmaDirection direction) {
        streaming.primitive.syncSg(dmaAddresses, lengths, nents, direction, false);
    }

    @Override
    public boolean needSync(long dmaAddress) {
        return streaming.needSync(dmaAddress);
    }

    /**
     * {@code dma_opt_mapping_size()}: {@code min(dma_max_mapping_size(), ops->opt_mapping_size())}, and dma-direct
     * has no {@code opt_mapping_size}.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_opt_mapping_size</a>
     */
    @Override
    public long optMappingSize() {
        return streaming.maxMappingSize();
    }

    @Override
    public boolean addressingLimited() {
        return streaming.addressingLimited();
    }

    @Override
    public long cacheAlignment() {
        return streaming.cacheAlignment();
    }

    /**
     * {@code dma_set_seg_boundary()}: swaps in a new policy, as the mask setters do.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_set_seg_boundary</a>
     */
    @Override
    public synchronized void setSegBoundary(long mask) {
        int ticket = enter("set the segment boundary");
        try {
            policy = new DevicePolicy(policy.dma.withSegBoundary(mask), parts.zones());
        } finally {
            gate.exit(ticket);
        }
    }

    /**
     * {@code dma_get_seg_boundary()}.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_get_seg_boundary</a>
     */
    @Override
    public long segBoundary() {
        return policy.dma.segBoundaryMask();
    }

    @Override
    public void setMaxSegSize(long size) {
        int ticket = enter("set the maximum segment size");
        try {
            streaming.setMaxSegSize(size);
        } finally {
            gate.exit(ticket);
        }
    }

    /**
     * {@code dma_get_max_seg_size()}.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_get_max_seg_size</a>
     */
    @Override
    public long maxSegSize() {
        return streaming.maxSegSize();
    }

    /** Enters the device's gate; refused once the device (or its platform, which closes it) is closed. */
    int enter(String what) {
        return gate.enter(what);
    }

    boolean isClosed() {
        return gate.isClosed();
    }

    /** For the paths that touch no memory: the same refusal as {@link #enter}, from one volatile read. */
    void checkOpen(String what) {
        if (gate.isClosed()) {
            throw new DmaUsageException("failed to " + what + ": device " + name() + " is closed");
        }
    }

    /**
     * {@code dma_map_resource()}: checked by {@link MmioResource#map}; nothing is recorded, as in dma-direct.
     * Inside the gate, so that a call racing {@link #close()} either completes before close or is refused.
     */
    @Override
    public long mapResource(long physAddress, long size, DmaDirection direction, DmaAttr... attrs) {
        MmioResource.checkArguments(size, direction, "map a resource");
        int ticket = enter("map a resource");
        try {
            DevicePolicy p = policy;
            return MmioResource.map(p, streaming.forceBounce(p), parts.memory().iommuTranslated(), physAddress, size,
                    name());
        } finally {
            gate.exit(ticket);
        }
    }

    /** {@code dma_unmap_resource()}: dma-direct has nothing to undo; the arguments and the open state are checked. */
    @Override
    public void unmapResource(long dmaAddress, long size, DmaDirection direction, DmaAttr... attrs) {
        MmioResource.checkArguments(size, direction, "unmap a resource");
        checkOpen("unmap a resource");
    }

    /**
     * Refuses new operations, waits for those running, then frees every live buffer and bounce slot of
     * this device, as a driver's remove path should have, and detaches. A second caller waits for the
     * first to finish.
     *
     * @throws DmaUsageException when operations did not finish within {@link Lifecycle#DEFAULT_WAIT_NANOS}:
     *         nothing is freed then (a leak, never memory freed under a running operation)
     */
    @Override
    public void close() {
        synchronized (closeLock) {
            if (!gate.close()) {
                return;
            }
            if (!gate.awaitQuiescence(Lifecycle.DEFAULT_WAIT_NANOS)) {
                platform.stuck(this);
                throw new DmaUsageException("failed to close device " + name() + ": " + gate.inFlight()
                        + " operations still ran after " + TimeUnit.NANOSECONDS.toSeconds(Lifecycle.DEFAULT_WAIT_NANOS)
                        + " s (closed from inside one of them?); its memory is left allocated rather than freed under them");
            }
            for (BlockPool pool : pools) {
                pool.deviceClosed();
            }
            pools.clear();
            reclaim();
            platform.detach(this);
        }
    }

    /** Frees what the driver left: everything registered here did so before the operation exited the gate. */
    private void reclaim() {
        List<CoherentBuffer> leftover = new ArrayList<>();
        java.util.function.Consumer<Object> collect = owner -> {
            if (owner instanceof CoherentBuffer && ((CoherentBuffer) owner).device == this) {
                leftover.add((CoherentBuffer) owner);
            }
        };
        pages.forEachOwner(owner -> {
            if (owner == platform.pools) {
                return;
            }
            collect.accept(owner);
        });
        platform.pools.forEachOwner(collect);
        if (platform.swiotlbAllocator != null) {
            platform.swiotlbAllocator.forEachOwner(collect);
        }
        for (CoherentBuffer buffer : leftover) {
            if (buffer.markFreed()) {
                release(buffer);
            }
        }
        streaming.releaseLeftovers();
    }

    @Override
    public String toString() {
        return "DmaDevice[" + name() + ", mask " + dmaMask() + ", coherent mask " + coherentMask() + "]";
    }

    Zone optimalZone() {
        return policy.zoneChoice.zone();
    }
}
