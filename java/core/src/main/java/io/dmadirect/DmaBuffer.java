package io.dmadirect;

import java.nio.ByteBuffer;

/**
 * Coherent DMA memory from {@link DmaDevice#allocCoherent}: what {@code dma_alloc_coherent()} returns,
 * the DMA address to program into the device together with the CPU's view of the same bytes.
 * Closing it frees it ({@code dma_free_coherent()}).
 *
 * <p>A buffer may be used from any thread; freeing it while another thread uses its CPU view is the
 * caller's race, as in the kernel. When its device or platform closes, the buffer is freed with it
 * ({@link #isFreed()} turns true); then {@link #close()} is a quiet no-op, {@link #cpuView()} throws, and
 * a view taken before reads zeros rather than crash (see {@link DmaPlatform}).
 */
public interface DmaBuffer extends AutoCloseable {

    /** {@return the device this memory was allocated for, and the only one that may free it} */
    DmaDevice device();

    /** {@return the address to hand the device: physical (moved by dma-ranges) in PA mode, an IOVA in IOVA mode} */
    long dmaAddress();

    /** {@return the size asked for, in bytes} */
    long size();

    /** {@return the size reserved, in bytes: the request rounded up to pages as the allocator hands them out} */
    long allocatedSize();

    /** {@return the zone the memory came from} */
    Zone zone();

    /** {@return which allocator served it} */
    AllocationPath path();

    /** {@return what was tried and why this memory was chosen} */
    AllocationReport report();

    /** {@return false for {@link DmaAttr#NO_KERNEL_MAPPING} memory, which the CPU never touches} */
    boolean hasCpuView();

    /**
     * The CPU's view of the {@link #size()} bytes, a new independent buffer at position 0 on each call.
     *
     * @return the view, from position 0 to {@link #size()}
     * @throws DmaUsageException when the buffer has no CPU view, has been freed, or its device is closed
     */
    ByteBuffer cpuView();

    /** {@return whether the memory has been freed} */
    boolean isFreed();

    /**
     * Frees the memory; a second free throws {@link DmaUsageException}. A quiet no-op once the device or
     * platform is closed, since their close freed it.
     */
    @Override
    void close();
}
