package io.dmadirect;

import java.nio.ByteBuffer;

/**
 * Memory from {@link DmaDevice#allocPages} or {@link DmaDevice#allocNoncoherent}: what {@code dma_alloc_pages()}
 * and {@code dma_alloc_noncoherent()} return, pages the device can reach under its coherent mask that are
 * <em>not</em> necessarily coherent with the CPU's caches. They are owned like a streaming mapping in
 * {@link #direction()}: the CPU writes, then {@link #syncForDevice} ({@code dma_sync_single_for_device()}) before
 * the device reads; the device writes, then {@link #syncForCpu} ({@code dma_sync_single_for_cpu()}) before the CPU
 * reads. For a device that is not cache-coherent the syncs clean and invalidate the CPU's caches through the
 * platform's cache maintenance; for a coherent one they do nothing, as in the kernel, and are still checked
 * (a freed buffer, a range outside it, a closed device).
 *
 * <p>Closing it frees it ({@code dma_free_pages()}); a second free throws {@link DmaUsageException}. When its device
 * or platform closes, it is freed with it ({@link #isFreed()} turns true), {@link #close()} becomes a quiet
 * no-op, and {@link #cpuView()} and the syncs throw {@link DmaUsageException}.
 */
public interface NoncoherentBuffer extends AutoCloseable {

    /** {@return the device this memory was allocated for, and the only one that may free it} */
    DmaDevice device();

    /** {@return the address to hand the device} */
    long dmaAddress();

    /** {@return the size asked for, in bytes: what the CPU view shows and the syncs may cover} */
    long size();

    /**
     * {@return the size reserved, in bytes: at least {@link #size()} rounded up to pages; the page-aligned size is
     * zeroed at allocation, as {@code dma_direct_alloc_pages()} clears it}
     */
    long allocatedSize();

    /** {@return the direction given at allocation, which every sync uses ({@code dma_alloc_pages()}'s {@code dir})} */
    DmaDirection direction();

    /** {@return the zone the memory came from} */
    Zone zone();

    /** {@return which allocator served it} */
    AllocationPath path();

    /** {@return what was tried and why this memory was chosen} */
    AllocationReport report();

    /**
     * The CPU's view of the {@link #size()} bytes ({@code page_address()}), a new buffer at position 0 on each call.
     *
     * @return the view
     * @throws DmaUsageException when the memory has been freed or its device is closed
     */
    ByteBuffer cpuView();

    /**
     * {@code dma_sync_single_range_for_device()} of {@code [offset, offset + length)} in {@link #direction()}: what
     * the CPU wrote there becomes visible to the device.
     *
     * @param offset from the start of the buffer
     * @param length bytes, at least 1
     * @throws DmaUsageException when the range is not inside {@link #size()}, the memory was freed, or the device closed
     */
    void syncForDevice(long offset, long length);

    /**
     * {@code dma_sync_single_range_for_cpu()} of {@code [offset, offset + length)} in {@link #direction()}: what the
     * device wrote there becomes visible to the CPU.
     *
     * @param offset from the start of the buffer
     * @param length bytes, at least 1
     * @throws DmaUsageException when the range is not inside {@link #size()}, the memory was freed, or the device closed
     */
    void syncForCpu(long offset, long length);

    /** {@code dma_sync_single_for_device()} over the whole {@link #size()}. */
    default void syncForDevice() {
        syncForDevice(0, size());
    }

    /** {@code dma_sync_single_for_cpu()} over the whole {@link #size()}. */
    default void syncForCpu() {
        syncForCpu(0, size());
    }

    /** {@return whether the memory has been freed} */
    boolean isFreed();

    /**
     * Frees the memory as the call that allocated it is freed ({@code dma_free_pages()},
     * {@code dma_free_noncoherent()} or {@code dma_free_noncontiguous()}); a second free throws
     * {@link DmaUsageException}; a quiet no-op once the device or platform is closed.
     */
    @Override
    void close();
}
