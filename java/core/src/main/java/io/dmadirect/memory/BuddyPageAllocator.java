package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.ZoneStats;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.spi.PhysicalMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * The page allocator over any {@link PhysicalMemory}: buddy arenas for blocks of up to one frame, a
 * first-fit finder of contiguous frames beyond that, both sharing each zone's free frames, and the
 * kernel's zonelist fallback with {@code lowmem_reserve} between the zones.
 *
 * <h2>Paths</h2>
 * <ul>
 *  <li><b>Fast:</b> an allocation of up to {@link AllocatorConfig#threadCacheMaxOrder()} without a physical
 *      limit pops a handle from the calling thread's cache, and a free of such a block pushes it there: no
 *      lock, no object, a few array reads and writes.</li>
 *  <li><b>Arena:</b> otherwise the thread's home arena of the zone (one lock among several per zone), a
 *      fresh frame from the zone, the other arenas, then the lower zones as their reserve allows.</li>
 *  <li><b>Before failing:</b> the caller's cache and the caches of terminated threads are drained and the
 *      allocation retried; then, if allowed, the memory grows once and it is retried again.</li>
 * </ul>
 *
 * <p>Frees from any thread go into the freeing thread's cache. Memory in caches counts as {@code cached},
 * not {@code free}, in {@link #stats()}. {@link #drainThreadCaches()} returns the caller's cache and those
 * of terminated threads at once; other live threads drain their own at their next allocation or free.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/page_alloc.c">__alloc_pages(),
 *      get_page_from_freelist(), free_pages()</a>
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/contiguous.c">dma_alloc_contiguous()</a>
 */
public final class BuddyPageAllocator implements PageAllocator {
    private static final Zone[] ZONES = Zone.values();

    private final PhysicalMemory memory;
    private final AllocatorConfig config;
    private final long frameSize;
    private final int maxOrder;
    private final int pageMask;
    /** The largest order that thread caches hold; -1 when they are off. */
    private final int cacheMaxOrder;
    private final FrameTableHolder tables;
    private final ZoneAllocator[] zones = new ZoneAllocator[ZONES.length];
    private final ThreadCaches caches;
    private final ReentrantLock growLock = new ReentrantLock();
    /** {@link #returnCached}, made once so that a cache overflow allocates nothing. */
    private final LongConsumer returnToArena = this::returnCached;
    private volatile ZoneProtection protection;
    private volatile boolean closed;

    public BuddyPageAllocator(PhysicalMemory memory) {
        this(memory, ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);
    }

    public BuddyPageAllocator(PhysicalMemory memory, ZoneLayout layout, AllocatorConfig config) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.config = Objects.requireNonNull(config, "config");
        FrameTable empty = FrameTable.empty(memory.frameSize(), Objects.requireNonNull(layout, "layout"));
        this.frameSize = empty.frameSize;
        this.maxOrder = empty.maxOrder;
        this.pageMask = (1 << maxOrder) - 1;
        int cached = -1;
        while (cached < maxOrder && config.cacheCapacity(cached + 1) > 0) {
            cached++;
        }
        this.cacheMaxOrder = cached;
        this.tables = new FrameTableHolder(empty);
        for (Zone zone : ZONES) {
            zones[zone.ordinal()] = new ZoneAllocator(zone, tables, config);
        }
        this.caches = new ThreadCaches(() -> new ThreadCache(Thread.currentThread(), config), returnToArena);
        addRuns(memory.runs());
    }

    // ---- allocation ------------------------------------------------------------------------------------

    /**
     * {@inheritDoc}
     *
     * <p>A lower zone serves a request for a higher one only while it keeps its {@code lowmem_reserve}
     * free ({@link ZoneProtection}). With a physical limit other than {@link #NO_LIMIT}, only blocks whose
     * last byte is at or below it (unsigned) are taken, by a search of the zone's free lists and frames;
     * the same zonelist rule applies.
     */
    @Override
    public long allocPages(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        if (bytes <= 0 || bytes > frameSize) {
            throw new IllegalArgumentException("failed to allocate pages: size " + bytes
                    + " must be from 1 to one frame (" + frameSize + " bytes)");
        }
        checkOpen();
        int order = orderOf(bytes);
        ThreadCache cache = caches.current();
        if (physLimit == NO_LIMIT && order <= cacheMaxOrder) {
            long handle = cache.pop(zone.ordinal(), order);
            if (handle != NO_PAGES) {
                tables.get().frames[Handles.frame(handle)].pageState[Handles.page(handle)] = Frame.live(order);
                return handle;
            }
        }
        return allocPagesSlow(zone, order, physLimit, mayGrow, cache.arenaSlot);
    }

    private long allocPagesSlow(Zone zone, int order, long physLimit, boolean mayGrow, int arenaSlot) {
        long handle = pagesFromZonelist(zone, order, physLimit, arenaSlot);
        if (handle == NO_PAGES) {
            caches.drainCurrentAndDead();
            handle = pagesFromZonelist(zone, order, physLimit, arenaSlot);
        }
        if (handle == NO_PAGES && mayGrow && grow(PAGE_SIZE << order)) {
            handle = pagesFromZonelist(zone, order, physLimit, arenaSlot);
        }
        if (handle == NO_PAGES) {
            caches.askLiveThreadsToDrain(); // memory is short: what other threads parked should come back
        }
        return handle;
    }

    /** get_page_from_freelist(): the zone, then each lower zone whose reserve allows it. */
    private long pagesFromZonelist(Zone zone, int order, long physLimit, int arenaSlot) {
        ZoneProtection protection = this.protection;
        long bytes = PAGE_SIZE << order;
        for (Zone z = zone; z != null; z = z.lower()) {
            ZoneAllocator candidate = zones[z.ordinal()];
            if (!candidate.hasMemoryBelow(physLimit)
                    || !protection.allows(z, zone, candidate.freeBytes(), bytes)) {
                continue;
            }
            int g = candidate.allocPages(order, candidate.effectiveLimit(physLimit), arenaSlot);
            if (g >= 0) {
                return Handles.pages(g >>> maxOrder, g & pageMask, order);
            }
        }
        return NO_PAGES;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Sizes up to one frame take one frame. A size larger than any handle can describe (2^31 frames or
     * more, which includes sizes near {@code Long.MAX_VALUE}) returns {@link #NO_PAGES} without growing.
     *
     * @throws IllegalArgumentException when {@code bytes} is not positive
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/cma.c">cma_alloc()</a>
     */
    @Override
    public long allocContiguous(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("failed to allocate contiguous memory: size " + bytes
                    + " must be positive");
        }
        checkOpen();
        long frames = (bytes - 1) / frameSize + 1; // rounds up without overflow
        if (frames > Handles.MAX_FRAMES) {
            return NO_PAGES;
        }
        long handle = contiguousFromZonelist(zone, (int) frames, physLimit);
        if (handle == NO_PAGES) {
            // Cached blocks can pin frames; freeing them may make whole frames again.
            caches.drainCurrentAndDead();
            handle = contiguousFromZonelist(zone, (int) frames, physLimit);
        }
        if (handle == NO_PAGES && mayGrow && grow(frames * frameSize)) {
            handle = contiguousFromZonelist(zone, (int) frames, physLimit);
        }
        if (handle == NO_PAGES) {
            caches.askLiveThreadsToDrain();
        }
        return handle;
    }

    private long contiguousFromZonelist(Zone zone, int frames, long physLimit) {
        ZoneProtection protection = this.protection;
        long bytes = frames * frameSize;
        for (Zone z = zone; z != null; z = z.lower()) {
            ZoneAllocator candidate = zones[z.ordinal()];
            if (!candidate.hasMemoryBelow(physLimit)
                    || !protection.allows(z, zone, candidate.freeBytes(), bytes)) {
                continue;
            }
            int head = candidate.allocContiguous(frames, candidate.effectiveLimit(physLimit));
            if (head >= 0) {
                return Handles.contiguous(head, frames);
            }
        }
        return NO_PAGES;
    }

    // ---- free ------------------------------------------------------------------------------------------

    @Override
    public void free(long handle) {
        FrameTable t = tables.get();
        if (Handles.isContiguous(handle)) {
            freeContiguous(handle, t);
            return;
        }
        Frame frame = pagesFrame(handle, t);
        int page = Handles.page(handle);
        int order = Handles.order(handle);
        if (order <= cacheMaxOrder) {
            ThreadCache cache = caches.current();
            if (frame.pageStateAt(page) != Frame.live(order)) {
                throw notAllocated(handle);
            }
            if (frame.owners[page] != null) {
                frame.owners[page] = null;
            }
            frame.pageState[page] = Frame.cached(order);
            int zone = t.zone[frame.index];
            if (!cache.push(zone, order, handle)) {
                cache.flushOlderHalf(zone, order, returnToArena);
                cache.push(zone, order, handle);
            }
            return;
        }
        BuddyArena arena = frame.arena;
        if (arena == null || !arena.free((frame.index << maxOrder) | page, order, Frame.live(order))) {
            throw notAllocated(handle);
        }
    }

    private void freeContiguous(long handle, FrameTable t) {
        int head = Handles.frame(handle);
        int frames = Handles.frameCount(handle);
        if (frames <= 0 || head >= t.count || frames > t.count - head
                || !zones[t.zone[head]].pool.freeContiguous(head, frames)) {
            throw notAllocated(handle);
        }
    }

    /** Returns a handle from a thread cache to its arena; the sink of every cache drain. */
    private void returnCached(long handle) {
        FrameTable t = tables.get();
        Frame frame = t.frames[Handles.frame(handle)];
        int order = Handles.order(handle);
        int g = (frame.index << maxOrder) | Handles.page(handle);
        if (!frame.arena.free(g, order, Frame.cached(order))) {
            // Only a racing double free by the user can get here; losing track silently would hide it.
            throw new IllegalStateException("failed to return cached pages: handle " + Sizes.hex(handle)
                    + " was freed twice concurrently");
        }
    }

    // ---- growth ----------------------------------------------------------------------------------------

    /**
     * Asks the memory for more, once; threads that fail together grow it only once between them.
     *
     * @return whether there is new memory to retry with
     */
    private boolean grow(long bytes) {
        FrameTable before = tables.get();
        growLock.lock();
        try {
            if (tables.get() != before) {
                return true; // another thread grew while this one waited
            }
            List<MemoryRun> runs = memory.grow(bytes);
            if (runs == null || runs.isEmpty()) {
                return false;
            }
            addRuns(runs);
            return true;
        } finally {
            growLock.unlock();
        }
    }

    @Override
    public io.dmadirect.spi.LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        growLock.lock();
        try {
            io.dmadirect.spi.LowMemoryAttempt attempt = memory.growBelow(physLimit, minBytes);
            if (!attempt.runs().isEmpty()) {
                addRuns(attempt.runs());
            }
            return attempt;
        } finally {
            growLock.unlock();
        }
    }

    /** Publishes the frames of {@code runs}, then hands them to their zones; called once at a time. */
    private void addRuns(List<MemoryRun> runs) {
        FrameTable old = tables.get();
        FrameTable grown = old.withRuns(new ArrayList<>(runs));
        tables.set(grown);
        long[] managed = new long[ZONES.length];
        for (ZoneAllocator zone : zones) {
            zone.pool.add(grown, old.count);
            managed[zone.zone.ordinal()] = zone.pool.totalFrames() * frameSize;
        }
        protection = ZoneProtection.of(managed, config);
    }

    // ---- lookups ---------------------------------------------------------------------------------------

    @Override
    public long maxPagesBytes() {
        return frameSize;
    }

    @Override
    public long physAddress(long handle) {
        return tables.get().phys[Handles.frame(handle)] + offsetInFrame(handle);
    }

    @Override
    public long cpuAddress(long handle) {
        return tables.get().cpu[Handles.frame(handle)] + offsetInFrame(handle);
    }

    @Override
    public long byteSize(long handle) {
        return Handles.isContiguous(handle) ? Handles.frameCount(handle) * frameSize
                : PAGE_SIZE << Handles.order(handle);
    }

    @Override
    public Zone zone(long handle) {
        return tables.get().zoneOf(Handles.frame(handle));
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        if (length < 0 || length > byteSize(handle)) {
            throw new IllegalArgumentException("failed to view memory: length " + length + " is outside 0.."
                    + byteSize(handle) + " of handle " + Sizes.hex(handle));
        }
        FrameTable t = tables.get();
        int frame = Handles.frame(handle);
        return t.run[frame].cpuView(t.runOffset[frame] + offsetInFrame(handle), length);
    }

    private static long offsetInFrame(long handle) {
        return Handles.isContiguous(handle) ? 0 : (long) Handles.page(handle) * PAGE_SIZE;
    }

    // ---- owners ----------------------------------------------------------------------------------------

    /** {@inheritDoc} Walks every frame's owner slots; frees clear their slot, so only live owners are seen. */
    @Override
    public void forEachOwner(java.util.function.Consumer<Object> action) {
        FrameTable t = tables.get();
        for (int index = 0; index < t.count; index++) {
            Frame frame = t.frames[index];
            if (frame.contigOwner != null) {
                action.accept(frame.contigOwner);
            }
            Object[] owners = frame.owners;
            if (owners == null) {
                continue; // never a buddy frame
            }
            for (Object owner : owners) {
                if (owner != null) {
                    action.accept(owner);
                }
            }
        }
    }

    @Override
    public void setOwner(long handle, Object owner) {
        FrameTable t = tables.get();
        if (Handles.isContiguous(handle)) {
            int head = Handles.frame(handle);
            Frame first = head < t.count ? t.frames[head] : null;
            if (first == null || first.state != Frame.CONTIGUOUS || first.contigHead != head
                    || first.contigFrames != Handles.frameCount(handle)) {
                throw notLive(handle);
            }
            first.contigOwner = owner;
            return;
        }
        Frame frame = pagesFrame(handle, t);
        int page = Handles.page(handle);
        if (frame.pageStateAt(page) != Frame.live(Handles.order(handle))) {
            throw notLive(handle);
        }
        frame.owners[page] = owner;
    }

    /**
     * {@inheritDoc}
     *
     * <p>A binary search over the frames by physical address, then, in a buddy frame, a walk up the orders
     * for the live block that starts at or below the page. Exact when no allocation or free of the memory
     * in question runs at the same time (which would be a race in the caller anyway); never torn.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_to_page()</a>
     */
    @Override
    public Object ownerAt(long physAddress) {
        FrameTable t = tables.get();
        int index = t.frameAt(physAddress);
        if (index < 0) {
            return null;
        }
        Frame frame = t.frames[index];
        if (frame.state == Frame.CONTIGUOUS) {
            int head = frame.contigHead;
            return head < 0 ? null : t.frames[head].contigOwner;
        }
        if (frame.state != Frame.BUDDY) {
            return null;
        }
        int page = (int) ((physAddress - t.phys[index]) / PAGE_SIZE);
        for (int k = 0; k <= maxOrder; k++) {
            int start = page & ~((1 << k) - 1);
            byte state = frame.pageStateAt(start);
            if (state == Frame.live(k)) {
                Object[] owners = frame.owners; // seen non-null with the page state, unless read in a race
                return owners == null ? null : owners[start];
            }
            if (state == Frame.cached(k)) {
                return null; // freed by its user, parked in a thread cache
            }
        }
        return null;
    }

    // ---- stats and lifecycle ---------------------------------------------------------------------------

    @Override
    public MemoryStats stats() {
        List<ZoneStats> out = new ArrayList<>(ZONES.length);
        for (ZoneAllocator zone : zones) {
            out.add(zone.stats(caches.cachedBytes(zone.zone.ordinal())));
        }
        return new MemoryStats(out);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The caller's cache and those of terminated threads are empty when this returns. Other live threads
     * are asked to drain, and do so at their next allocation or free; until then their memory stays
     * {@code cached}.
     */
    @Override
    public void drainThreadCaches() {
        caches.drainAll();
    }

    /** Further allocations fail with {@link io.dmadirect.DmaUsageException}; frees and lookups keep working. */
    @Override
    public void close() {
        closed = true;
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    /** The order of the smallest power-of-two number of pages that holds {@code bytes} (1..frameSize). */
    static int orderOf(long bytes) {
        return 64 - Long.numberOfLeadingZeros((bytes - 1) >>> 12);
    }

    /** The frames as they are now, for the package's tests of frame state. */
    Frame[] frames() {
        return tables.get().frames;
    }

    /** The frame of a well-formed pages handle; throws as a bad free for anything else. */
    private Frame pagesFrame(long handle, FrameTable t) {
        int frame = Handles.frame(handle);
        int page = Handles.page(handle);
        int order = Handles.order(handle);
        if (frame >= t.count || order < 0 || order > maxOrder || page > pageMask
                || (page & ((1 << order) - 1)) != 0) {
            throw notAllocated(handle);
        }
        return t.frames[frame];
    }

    private void checkOpen() {
        if (closed) {
            throw new DmaUsageException("failed to allocate: the page allocator is closed (its platform was closed)");
        }
    }

    private static IllegalStateException notAllocated(long handle) {
        return new IllegalStateException("failed to free pages: handle " + Sizes.hex(handle)
                + " is not allocated (double free?)");
    }

    private static IllegalStateException notLive(long handle) {
        return new IllegalStateException("failed to set owner: handle " + Sizes.hex(handle) + " is not allocated");
    }
}
