package io.dmadirect;

import java.nio.ByteBuffer;

/**
 * Coherent DMA memory from {@link DmaDevice#allocCoherent}: what {@code dma_alloc_coherent()} returns,
 * the DMA address to program into the device together with the CPU's view of the same bytes.
 * Closing it frees it ({@code dma_free_coherent()}).
 */
public interface DmaBuffer extends AutoCloseable {

    /** The device this memory was allocated for, and the only one that may free it. */
    DmaDevice device();

    /** The address to hand the device: physical (moved by dma-ranges) in PA mode, an IOVA in IOVA mode. */
    long dmaAddress();

    /** The size asked for, in bytes. */
    long size();

    /** The size reserved, in bytes: the request rounded up to pages as the allocator hands them out. */
    long allocatedSize();

    /** The zone the memory came from. */
    Zone zone();

    /** Which allocator served it. */
    AllocationPath path();

    /** What was tried and why this memory was chosen. */
    AllocationReport report();

    /** False for {@link DmaAttr#NO_KERNEL_MAPPING} memory, which the CPU never touches. */
    boolean hasCpuView();

    /**
     * The CPU's view of the {@link #size()} bytes, a new independent buffer at position 0 on each call.
     *
     * @throws DmaUsageException when the buffer has no CPU view or has been freed
     */
    ByteBuffer cpuView();

    /** Whether the memory has been freed. */
    boolean isFreed();

    /** Frees the memory; a second free throws {@link DmaUsageException}. */
    @Override
    void close();
}
