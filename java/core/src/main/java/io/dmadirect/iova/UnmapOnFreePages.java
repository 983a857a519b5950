package io.dmadirect.iova;

import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.spi.LowMemoryAttempt;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The page allocator of IOVA memory that unmaps at free ({@code iommuUnmapOnFree}): every allocation is mapped
 * into the IOMMU before it is handed out and unmapped before its pages go back, so the device reaches exactly
 * the memory that is allocated now. A decorator chosen when the platform is built, so that without the option
 * nothing on the allocation or free path changes.
 *
 * <p>It covers whatever the page allocator hands out: coherent buffers of the PAGES and CONTIGUOUS paths,
 * {@code allocPages} buffers, and the chunks behind atomic pools, dma_pools and the bounce pool, which are unmapped
 * when those give their pages back. It cannot see frees inside them: a buffer freed into an atomic pool, a
 * dma_pool block or a swiotlb slot stays reachable, because other live allocations share its pages.
 *
 * <p>Order matters for threads: a free unmaps before the pages can be allocated again, and an allocation maps
 * after it owns them, so no two mappings of the same IOVA can meet in the IOMMU.
 */
final class UnmapOnFreePages implements PageAllocator {
    private final PageAllocator pages;
    private final IovaMemory memory;

    UnmapOnFreePages(PageAllocator pages, IovaMemory memory) {
        this.pages = pages;
        this.memory = memory;
    }

    @Override
    public long allocPages(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        return mapped(pages.allocPages(zone, bytes, physLimit, mayGrow));
    }

    @Override
    public long allocContiguous(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        return mapped(pages.allocContiguous(zone, bytes, physLimit, mayGrow));
    }

    /** Maps a fresh allocation, or gives it back and rethrows when the IOMMU refuses. */
    private long mapped(long handle) {
        if (handle == NO_PAGES) {
            return handle;
        }
        try {
            memory.mapAllocation(pages.physAddress(handle), pages.byteSize(handle));
        } catch (RuntimeException e) {
            try {
                pages.free(handle);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return handle;
    }

    @Override
    public void free(long handle) {
        // Unmapped first: once the pages are back in the allocator another thread may take and map them.
        memory.unmapAllocation(pages.physAddress(handle), pages.byteSize(handle));
        pages.free(handle);
    }

    @Override
    public LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        return pages.growBelow(physLimit, minBytes);
    }

    @Override
    public long maxPagesBytes() {
        return pages.maxPagesBytes();
    }

    @Override
    public long physAddress(long handle) {
        return pages.physAddress(handle);
    }

    @Override
    public long cpuAddress(long handle) {
        return pages.cpuAddress(handle);
    }

    @Override
    public long byteSize(long handle) {
        return pages.byteSize(handle);
    }

    @Override
    public Zone zone(long handle) {
        return pages.zone(handle);
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        return pages.cpuView(handle, length);
    }

    @Override
    public void setOwner(long handle, Object owner) {
        pages.setOwner(handle, owner);
    }

    @Override
    public Object ownerAt(long physAddress) {
        return pages.ownerAt(physAddress);
    }

    @Override
    public void forEachOwner(Consumer<Object> action) {
        pages.forEachOwner(action);
    }

    @Override
    public MemoryStats stats() {
        return pages.stats();
    }

    @Override
    public void drainThreadCaches() {
        pages.drainThreadCaches();
    }

    @Override
    public void close() {
        pages.close();
    }
}
