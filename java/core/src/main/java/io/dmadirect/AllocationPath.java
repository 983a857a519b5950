package io.dmadirect;

/** Which allocator served a coherent allocation, as {@code dma_direct_alloc()} chooses it. */
public enum AllocationPath {
    /** A non-blocking allocation from a preallocated per-zone pool ({@code dma_direct_alloc_from_pool}). */
    ATOMIC_POOL,
    /** A physically contiguous run of whole frames, the CMA analogue ({@code dma_alloc_contiguous}). */
    CONTIGUOUS,
    /** Pages from the buddy allocator of a zone ({@code alloc_pages_node}). */
    PAGES,
    /** The bounce-buffer pool, for restricted devices ({@code dma_direct_alloc_swiotlb}). */
    SWIOTLB
}
