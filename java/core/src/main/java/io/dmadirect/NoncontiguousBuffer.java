package io.dmadirect;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Memory from {@link DmaDevice#allocNoncontiguous}: what {@code dma_alloc_noncontiguous()} returns, a
 * {@code struct sg_table} whose DMA side is one segment. For dma-direct (both of dmadirect's modes) it is one
 * contiguous allocation, exactly {@code alloc_single_sgt()}: {@link #segments()} holds one segment of the
 * page-aligned size (within {@link #allocatedSize()}, which is the allocator's own rounding), and {@link #vmap()} is the CPU view of that one allocation.
 *
 * <p>The ownership rules are those of {@link NoncoherentBuffer} ({@code dma_sync_sgtable_for_device()} /
 * {@code dma_sync_sgtable_for_cpu()} are {@link #syncForDevice()} / {@link #syncForCpu()}). Closing it is
 * {@code dma_free_noncontiguous()}.
 */
public interface NoncontiguousBuffer extends NoncoherentBuffer {

    /** {@return the DMA segments: one, {@link #dmaAddress()} for {@link #size()} rounded up to pages ({@code PAGE_ALIGN})} */
    List<DmaSegment> segments();

    /**
     * {@code dma_vmap_noncontiguous()}: one CPU view of the whole buffer. For dma-direct the kernel returns
     * {@code page_address()} of the single segment, so this is {@link #cpuView()}; there is nothing to
     * {@code dma_vunmap_noncontiguous()}.
     *
     * @return the view, from position 0 to {@link #size()}
     * @throws DmaUsageException when the memory has been freed or its device is closed
     */
    default ByteBuffer vmap() {
        return cpuView();
    }
}
