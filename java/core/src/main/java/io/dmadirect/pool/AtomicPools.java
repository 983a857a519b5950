package io.dmadirect.pool;

import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.memory.PageAllocator;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The atomic pools of {@code kernel/dma/pool.c}: one per zone that has memory, for callers that cannot
 * block. Allocation only flips bits; when a pool runs below its initial size, a background thread
 * doubles it ({@code atomic_pool_work_fn} and {@code atomic_pool_resize}).
 *
 * <p>Handles: bits 60..61 the zone + 1, bits 32..55 the chunk index, bits 8..31 the first page, bits
 * 0..7 the page count (1 to 64).
 */
public final class AtomicPools implements AutoCloseable {
    static final long POOL_PAGE = PageAllocator.PAGE_SIZE;
    private static final System.Logger LOG = System.getLogger("io.dmadirect.pool");

    private final PageAllocator pages;
    private final AtomicPool[] byZone = new AtomicPool[Zone.values().length];
    private final long initialBytes;
    private final long maxBytes;
    private final ChunkPreparer preparer;
    private final ExecutorService refill;

    /** What {@link #alloc} returns when no pool had suitable memory; never a handle, whose zone bits are never 0. */
    public static final long NONE = 0L;
    /** For {@code initialBytes}: the kernel's default size, scaled to the memory held ({@link #scaledBytes}). */
    public static final long SCALED = -1;
    static final long MIN_SCALED_BYTES = 128 * Sizes.KiB;
    /** {@code MAX_ORDER_NR_PAGES} of 4 KiB pages: the kernel's default never exceeds one top-order block. */
    static final long MAX_SCALED_BYTES = 4 * Sizes.MiB;

    /**
     * Creates and fills a pool for each zone that has memory ({@code dma_atomic_pool_init()}: a pool for
     * ZONE_NORMAL, ZONE_DMA and ZONE_DMA32 only where the zone has managed memory; here, memory held).
     *
     * @param initialBytes each pool's first size ({@code atomic_pool_size}); 0 disables the pools, {@link #SCALED}
     *                     takes the kernel's default for the memory held
     * @param maxBytes     the most a pool may grow to
     */
    public AtomicPools(PageAllocator pages, MemoryStats memory, long initialBytes, long maxBytes, ChunkPreparer preparer) {
        long initial = initialBytes == SCALED ? Math.min(scaledBytes(totalHeld(memory)), maxBytes) : initialBytes;
        if (initial < 0 || maxBytes < initial) {
            throw new IllegalArgumentException("atomic pool sizes must satisfy 0 <= initial <= max, got "
                    + initialBytes + " and " + maxBytes);
        }
        this.pages = pages;
        this.initialBytes = initial;
        this.maxBytes = maxBytes;
        this.preparer = preparer;
        this.refill = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "dmadirect-atomic-pool-refill");
            thread.setDaemon(true);
            return thread;
        });
        if (initial == 0) {
            return;
        }
        for (Zone zone : Zone.values()) {
            if (memory.zone(zone).total() > 0) {
                AtomicPool pool = new AtomicPool(zone);
                byZone[zone.ordinal()] = pool;
                expand(pool, initial);
            }
        }
    }

    /**
     * The kernel's default {@code atomic_pool_size} when {@code coherent_pool=} is not given: 128 KiB per GiB
     * of memory, at least 128 KiB, at most one top-order block (4 MiB); here per GiB of memory the platform
     * holds, since that is the memory the pools draw on.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/pool.c">dma_atomic_pool_init</a>
     */
    public static long scaledBytes(long heldBytes) {
        long perGiB = heldBytes / Sizes.GiB * MIN_SCALED_BYTES;
        return Math.max(MIN_SCALED_BYTES, Math.min(perGiB, MAX_SCALED_BYTES));
    }

    private static long totalHeld(MemoryStats memory) {
        long total = 0;
        for (Zone zone : Zone.values()) {
            total += memory.zone(zone).total();
        }
        return total;
    }

    /**
     * {@code dma_alloc_from_pool()}: tries the pools in {@code dma_guess_pool()} order, starting from the
     * device's optimal zone, and keeps the first memory {@code check} accepts.
     *
     * @return a handle, or {@link #NONE} when no pool had suitable memory
     */
    public long alloc(Zone optimalZone, long size, PhysCheck check) {
        long pagesNeeded = (size + POOL_PAGE - 1) / POOL_PAGE;
        if (size <= 0 || pagesNeeded > PoolChunk.MAX_PAGES_PER_ALLOC) {
            return NONE;
        }
        for (AtomicPool pool = firstPool(optimalZone); pool != null; pool = nextPool(pool)) {
            long handle = allocFrom(pool, (int) pagesNeeded, size, check);
            if (handle != NONE) {
                maybeResize(pool);
                return handle;
            }
        }
        return NONE;
    }

    private long allocFrom(AtomicPool pool, int n, long size, PhysCheck check) {
        PoolChunk[] chunks = pool.chunks();
        for (int i = 0; i < chunks.length; i++) {
            PoolChunk chunk = chunks[i];
            int first = chunk.claim(n);
            if (first < 0) {
                continue;
            }
            if (check.ok(chunk.physBase + first * POOL_PAGE, size)) {
                return ((long) (pool.zone.ordinal() + 1) << 60) | ((long) i << 32) | ((long) first << 8) | n;
            }
            // Like the kernel, memory of a pool the device cannot reach sends us to the next pool.
            chunk.release(first, n);
            return NONE;
        }
        return NONE;
    }

    /** {@code dma_guess_pool(NULL, gfp)}. */
    private AtomicPool firstPool(Zone optimalZone) {
        if (optimalZone == Zone.DMA32 && byZone[Zone.DMA32.ordinal()] != null) {
            return byZone[Zone.DMA32.ordinal()];
        }
        if (optimalZone == Zone.DMA && byZone[Zone.DMA.ordinal()] != null) {
            return byZone[Zone.DMA.ordinal()];
        }
        AtomicPool normal = byZone[Zone.NORMAL.ordinal()];
        return normal != null ? normal : nextPool(Zone.NORMAL);
    }

    /** {@code dma_guess_pool(prev, gfp)}: kernel pool, then DMA32, then DMA. */
    private AtomicPool nextPool(AtomicPool prev) {
        return nextPool(prev.zone);
    }

    private AtomicPool nextPool(Zone prev) {
        for (Zone zone = prev.lower(); zone != null; zone = zone.lower()) {
            if (byZone[zone.ordinal()] != null) {
                return byZone[zone.ordinal()];
            }
        }
        return null;
    }

    private void maybeResize(AtomicPool pool) {
        if (pool.expanding || pool.availableBytes() >= initialBytes || pool.sizeBytes() >= maxBytes) {
            return;
        }
        pool.expanding = true;
        try {
            refill.execute(() -> {
                try {
                    expand(pool, pool.sizeBytes());
                } finally {
                    pool.expanding = false;
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            pool.expanding = false;
        }
    }

    /** {@code atomic_pool_expand()}: adds chunks worth {@code bytes}, each at most one frame. */
    private void expand(AtomicPool pool, long bytes) {
        long want = Math.min(bytes, maxBytes - pool.sizeBytes());
        while (want >= POOL_PAGE) {
            long chunkBytes = Math.min(Long.highestOneBit(want), pages.maxPagesBytes());
            long handle = pages.allocPages(pool.zone, chunkBytes, PageAllocator.NO_LIMIT, true);
            if (handle == PageAllocator.NO_PAGES) {
                LOG.log(System.Logger.Level.DEBUG, "pool: no memory to grow the " + pool.zone + " atomic pool by "
                        + Sizes.format(chunkBytes));
                return;
            }
            long phys = pages.physAddress(handle);
            long cpu = pages.cpuAddress(handle);
            long size = pages.byteSize(handle);
            if (!preparer.prepare(phys, cpu, size)) {
                // The memory may be half shared: leaking it is safer than handing it out again.
                LOG.log(System.Logger.Level.WARNING, "pool: failed to prepare " + Sizes.format(size) + " at 0x"
                        + Long.toHexString(phys) + " for the " + pool.zone + " atomic pool; leaking it");
                return;
            }
            pages.setOwner(handle, this);
            pool.add(new PoolChunk(handle, phys, cpu, (int) (size / POOL_PAGE)));
            want -= size;
        }
    }

    private PoolChunk chunkOf(long handle) {
        int zone = (int) (handle >>> 60) - 1;
        int index = (int) ((handle >>> 32) & 0xff_ffff);
        AtomicPool pool = zone >= 0 && zone < byZone.length ? byZone[zone] : null;
        PoolChunk[] chunks = pool == null ? new PoolChunk[0] : pool.chunks();
        if (index >= chunks.length) {
            throw new IllegalStateException("failed to use atomic pool handle 0x" + Long.toHexString(handle) + ": no such chunk");
        }
        return chunks[index];
    }

    private static int firstPage(long handle) {
        return (int) ((handle >>> 8) & 0xff_ffff);
    }

    private static int pageCount(long handle) {
        return (int) (handle & 0xff);
    }

    public long physAddress(long handle) {
        return chunkOf(handle).physBase + firstPage(handle) * POOL_PAGE;
    }

    public long cpuAddress(long handle) {
        return chunkOf(handle).cpuBase + firstPage(handle) * POOL_PAGE;
    }

    public long byteSize(long handle) {
        return pageCount(handle) * POOL_PAGE;
    }

    public Zone zone(long handle) {
        return pages.zone(chunkOf(handle).pageHandle);
    }

    public ByteBuffer cpuView(long handle, int length) {
        PoolChunk chunk = chunkOf(handle);
        int offset = (int) (firstPage(handle) * POOL_PAGE);
        return pages.cpuView(chunk.pageHandle, offset + length).slice(offset, length);
    }

    /** {@code dma_free_from_pool()}. */
    public void free(long handle) {
        PoolChunk chunk = chunkOf(handle);
        chunk.setOwner(firstPage(handle), null);
        if (!chunk.release(firstPage(handle), pageCount(handle))) {
            throw new IllegalStateException("failed to free atomic pool memory 0x" + Long.toHexString(handle)
                    + ": it is not allocated (double free?)");
        }
    }

    public void setOwner(long handle, Object owner) {
        chunkOf(handle).setOwner(firstPage(handle), owner);
    }

    /** The owner of the pool allocation holding {@code phys}, or null. */
    public Object ownerAt(long phys) {
        for (AtomicPool pool : byZone) {
            if (pool == null) {
                continue;
            }
            for (PoolChunk chunk : pool.chunks()) {
                if (chunk.contains(phys)) {
                    return chunk.ownerOfPage((int) ((phys - chunk.physBase) / POOL_PAGE));
                }
            }
        }
        return null;
    }

    /** Calls {@code action} with the owner of every live pool allocation. */
    public void forEachOwner(java.util.function.Consumer<Object> action) {
        for (AtomicPool pool : byZone) {
            if (pool == null) {
                continue;
            }
            for (PoolChunk chunk : pool.chunks()) {
                chunk.forEachOwner(action);
            }
        }
    }

    /** Size and free bytes of the zone's pool, as {@code {size, available}}; zeros when it has none. */
    public long[] poolBytes(Zone zone) {
        AtomicPool pool = byZone[zone.ordinal()];
        return pool == null ? new long[] {0, 0} : new long[] {pool.sizeBytes(), pool.availableBytes()};
    }

    /** Waits for a queued background expansion, for tests and orderly shutdown. */
    public void awaitRefill() throws InterruptedException {
        java.util.concurrent.Future<?> marker = refill.submit(() -> { });
        try {
            marker.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops the refill thread and gives every chunk back to the page allocator. */
    @Override
    public void close() {
        refill.shutdownNow();
        try {
            refill.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (AtomicPool pool : byZone) {
            if (pool == null) {
                continue;
            }
            for (PoolChunk chunk : pool.chunks()) {
                pages.setOwner(chunk.pageHandle, null);
                pages.free(chunk.pageHandle);
            }
        }
    }
}
