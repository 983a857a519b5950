package io.dmadirect.direct;

/**
 * The bounce-buffer pool as a coherent allocator, for devices restricted to it: {@code swiotlb_alloc()}
 * and {@code swiotlb_free()}. A platform serves it from its bounce pool unless its parts bring another;
 * with neither, a restricted device's allocations fail with a message that says so.
 */
public interface SwiotlbAllocator {

    /** A region of at least {@code size} bytes; {@link #NONE} when the pool is full. */
    long alloc(long size);

    /**
     * {@code swiotlb_alloc()} for a device: a region of at least {@code size} bytes aligned, as the device
     * addresses it, to {@code size} rounded up to a power-of-two number of pages ({@code get_order(size)}).
     * An allocator that knows no alignment serves {@link #alloc(long)}.
     *
     * @param physToDma the device's {@code phys_to_dma_unencrypted()}, or null when DMA addresses equal
     *                  physical ones
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_alloc</a>
     */
    default long alloc(long size, java.util.function.LongUnaryOperator physToDma) {
        return alloc(size);
    }

    /**
     * Frees {@code handle} when it belongs to the pool, as {@code __dma_direct_free_pages()} asks the
     * pool first.
     *
     * @return false when the handle is not the pool's
     */
    boolean free(long handle);

    long physAddress(long handle);

    long cpuAddress(long handle);

    java.nio.ByteBuffer cpuView(long handle, int length);

    /** Attaches the buffer that holds a live handle, found again by {@link #ownerAt}. */
    default void setOwner(long handle, Object owner) {
    }

    /** The owner of the live allocation whose memory holds {@code physAddress}, or null. */
    default Object ownerAt(long physAddress) {
        return null;
    }

    /** Calls {@code action} with the owner of every live allocation (slow: for close). */
    default void forEachOwner(java.util.function.Consumer<Object> action) {
    }

    /** The last physical address of the pool, for {@code dma_direct_supported()}. */
    long lastPhysAddress();

    long NONE = 0L;
}
