package io.dmadirect.memory;

import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import java.nio.ByteBuffer;

/**
 * The page allocator under dma-direct: the kernel's {@code alloc_pages()} per zone plus the contiguous
 * allocator ({@code dma_alloc_contiguous()}, the CMA analogue), over any {@link io.dmadirect.spi.PhysicalMemory}.
 *
 * <p>Allocations are {@code long} handles, so the hot path creates no object. A handle is never
 * {@link #NO_PAGES}. Every method is thread-safe and the hot path takes no global lock.
 *
 * <p>The smallest unit is a 4 KiB page ({@link #PAGE_SIZE}), as in the kernel, which rounds every
 * coherent allocation up to pages.
 */
public interface PageAllocator extends AutoCloseable {

    /** What the allocate methods return when nothing fits. */
    long NO_PAGES = 0L;

    long PAGE_SIZE = 4096;

    /** An unsigned physical limit that excludes nothing. */
    long NO_LIMIT = -1L;

    /**
     * {@code alloc_pages(gfp, order)}: at least {@code bytes}, rounded up to a power-of-two number of
     * pages, at most one frame, from {@code zone} or, when it has nothing free, from lower zones as far
     * as their low-memory reserve allows (the kernel's zonelist fallback with {@code lowmem_reserve}).
     *
     * @param physLimit the last physical address the memory may touch (unsigned); {@link #NO_LIMIT} takes
     *                  the fast path, any other value searches the zone below the limit
     * @param mayGrow   whether the memory may grow by a (blocking) call to {@code PhysicalMemory.grow}
     * @return a handle, or {@link #NO_PAGES}
     * @throws IllegalArgumentException when {@code bytes} is not positive or exceeds {@link #maxPagesBytes()}
     */
    long allocPages(Zone zone, long bytes, long physLimit, boolean mayGrow);

    /**
     * {@code dma_alloc_contiguous()}: whole frames, physically contiguous, for sizes beyond one frame.
     * Same zone, limit and growth rules as {@link #allocPages}.
     *
     * @return a handle, or {@link #NO_PAGES}
     */
    long allocContiguous(Zone zone, long bytes, long physLimit, boolean mayGrow);

    /**
     * Low memory on demand: asks the memory for more below {@code physLimit} ({@link
     * io.dmadirect.spi.PhysicalMemory#growBelow}) and hands what it got to the zones it lies in. Blocking;
     * never called for an atomic allocation.
     */
    default io.dmadirect.spi.LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        return io.dmadirect.spi.LowMemoryAttempt.none("this page allocator cannot grow below a limit");
    }

    /**
     * Frees a live handle and detaches its owner.
     *
     * @throws IllegalStateException when the handle is not live (already freed, or never allocated)
     */
    void free(long handle);

    /** The largest size {@link #allocPages} serves: one frame. */
    long maxPagesBytes();

    long physAddress(long handle);

    long cpuAddress(long handle);

    /** Bytes reserved for the handle (a power-of-two number of pages, or whole frames). */
    long byteSize(long handle);

    Zone zone(long handle);

    /** The CPU's view of the first {@code length} bytes of the allocation. */
    ByteBuffer cpuView(long handle, int length);

    /** Attaches an owner to a live handle, found again by {@link #ownerAt}; null detaches. */
    void setOwner(long handle, Object owner);

    /** The owner of the live allocation whose memory holds {@code physAddress}, or null. */
    Object ownerAt(long physAddress);

    /** Calls {@code action} with the owner of every live allocation that has one (slow: for close and dumps). */
    void forEachOwner(java.util.function.Consumer<Object> action);

    MemoryStats stats();

    /** Returns memory parked in per-thread caches to the shared allocator, for every thread. */
    void drainThreadCaches();

    /**
     * Releases the allocator's structures; the physical memory is closed by its owner. Allocations after
     * close throw {@link io.dmadirect.DmaUsageException}; through the API they cannot happen, since the
     * platform closes the page allocator only after every device's operations drained (see
     * {@code io.dmadirect.direct.Lifecycle}).
     */
    @Override
    void close();
}
