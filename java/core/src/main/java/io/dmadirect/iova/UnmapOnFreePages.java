package io.dmadirect.iova;

import io.dmadirect.Zone;
import io.dmadirect.memory.ForwardingPageAllocator;
import io.dmadirect.memory.PageAllocator;

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
final class UnmapOnFreePages extends ForwardingPageAllocator {
    private final IovaMemory memory;

    UnmapOnFreePages(PageAllocator pages, IovaMemory memory) {
        super(pages);
        this.memory = memory;
    }

    @Override
    public long allocPages(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        return mapped(delegate.allocPages(zone, bytes, physLimit, mayGrow));
    }

    @Override
    public long allocContiguous(Zone zone, long bytes, long physLimit, boolean mayGrow) {
        return mapped(delegate.allocContiguous(zone, bytes, physLimit, mayGrow));
    }

    /** Maps a fresh allocation, or gives it back and rethrows when the IOMMU refuses. */
    private long mapped(long handle) {
        if (handle == NO_PAGES) {
            return handle;
        }
        try {
            memory.mapAllocation(delegate.physAddress(handle), delegate.byteSize(handle));
        } catch (RuntimeException e) {
            try {
                delegate.free(handle);
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
        memory.unmapAllocation(delegate.physAddress(handle), delegate.byteSize(handle));
        delegate.free(handle);
    }
}
