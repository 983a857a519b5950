package io.dmadirect;

import java.nio.ByteBuffer;

/**
 * A pool of small coherent blocks of one size, as the kernel's {@code dma_pool} gives drivers for
 * descriptors and PRP lists: made by {@link DmaDevice#createPool}, it carves pages of coherent memory
 * ({@link DmaDevice#allocCoherent}) into blocks that keep the pool's alignment and never cross its boundary.
 *
 * <h2>Two paths</h2>
 * The primitive path allocates no Java object: {@link #alloc(int)} returns the block's DMA address, the
 * CPU reaches the block through the shared view of its page ({@link #pageView(long)}, at
 * {@link #pageOffset(long)}) and {@link #free(long)} takes the DMA address back. The object path,
 * {@link #allocBlock}, wraps the same in a {@link Block} to close.
 *
 * <h2>Threads and close</h2>
 * Every method may be called from any thread at once; the pool serialises its own bookkeeping (the
 * kernel's per-pool spinlock). {@link #close()} ({@code dma_pool_destroy}) refuses while blocks are still
 * allocated: it throws {@link DmaUsageException} with their count and leaves the pool as it was, usable,
 * where the kernel would log "busy" and leak the pages; free the blocks and close again, or close the
 * device, which frees the pool's pages with the rest of its memory. Once the pool is closed, or its device or
 * platform is, {@code alloc}, {@code free} and the views throw {@link DmaUsageException}; {@link #close()}
 * and {@link Block#close()} are quiet no-ops then.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">dma_pool_create</a>
 */
public interface DmaPool extends AutoCloseable {

    /** {@return the name given at creation; messages use it} */
    String name();

    /** {@return the device whose coherent memory the pool carves} */
    DmaDevice device();

    /** {@return the block size: the size asked for, at least 16 bytes, rounded up to the alignment} */
    long blockSize();

    /** {@return the bytes of each pool page: the block size, at least one 4 KiB page} */
    long allocation();

    /** {@return the boundary no block crosses: the one asked for, or the page's size, at most the page's size} */
    long boundary();

    /**
     * {@code dma_pool_alloc()}: a free block, or a new page carved into blocks when none is free. The block's
     * content is undefined (with the pool's debug checks on, it is filled with {@code 0xa9}).
     *
     * @param attrs {@code DmaAttr.flags(DmaAttr.ATOMIC)} when the caller cannot block (a new page then comes
     *              from memory that needs no waiting, as {@code GFP_ATOMIC} makes {@code dma_alloc_coherent()}
     *              do), or 0
     * @return the block's DMA address
     * @throws DmaAllocationException when no block is free and no page could be allocated
     * @throws DmaUsageException      once the pool, its device or its platform is closed
     * @throws IllegalArgumentException for attributes other than {@link DmaAttr#ATOMIC}
     */
    long alloc(int attrs);

    /**
     * {@code dma_pool_zalloc()}: as {@link #alloc(int)}, the block zeroed.
     *
     * @param attrs as {@link #alloc(int)}
     * @return the block's DMA address
     */
    long zalloc(int attrs);

    /**
     * {@code dma_pool_free()}: the block is free for reuse; neither the device nor the CPU may touch it again
     * until it is allocated again.
     *
     * @param dmaAddress the address {@link #alloc(int)} returned
     * @throws DmaUsageException when the address is not the start of a live block of this pool (outside its
     *                           pages, inside a block, or already free), the message naming the pool and the
     *                           address; nothing is changed then. Also once the pool or its device is closed
     */
    void free(long dmaAddress);

    /**
     * The CPU's view of the whole pool page that holds a block, shared by every block of that page and every
     * caller: use only its absolute accessors ({@code getLong(index)}, {@code put(index, ...)}) at
     * {@link #pageOffset(long)} plus the offset in the block, and never change its position, limit or byte
     * order. It is little-endian, as PCI devices read memory. Allocates nothing.
     *
     * @param dmaAddress an address inside a page of this pool, such as a block's
     * @return the page's view
     * @throws DmaUsageException for an address outside the pool's pages, or once the pool or its device is closed
     */
    ByteBuffer pageView(long dmaAddress);

    /**
     * {@return where {@code dmaAddress} lies in its page's {@link #pageView(long) view}}
     *
     * @param dmaAddress an address inside a page of this pool
     * @throws DmaUsageException as {@link #pageView(long)}
     */
    int pageOffset(long dmaAddress);

    /**
     * The object path of {@link #alloc(int)}: the block as a {@link Block} to close.
     *
     * @param attrs {@link DmaAttr#ATOMIC}, or none
     * @return the block
     */
    Block allocBlock(DmaAttr... attrs);

    /**
     * The object path of {@link #zalloc(int)}.
     *
     * @param attrs {@link DmaAttr#ATOMIC}, or none
     * @return the block, zeroed
     */
    Block zallocBlock(DmaAttr... attrs);

    /** {@return blocks allocated now (the kernel's {@code nr_active})} */
    int activeBlocks();

    /** {@return blocks the pool's pages hold, free or not ({@code nr_blocks})} */
    int totalBlocks();

    /** {@return pages the pool holds ({@code nr_pages}); pages are kept until the pool is closed, as in the kernel} */
    int pageCount();

    /**
     * {@code dma_pool_destroy()}: frees the pool's pages. Idempotent, and a quiet no-op once the device or
     * platform is closed (their close freed the pages).
     *
     * @throws DmaUsageException when blocks are still allocated: nothing is freed and the pool stays usable
     */
    @Override
    void close();

    /** A block of a {@link DmaPool}, for the object path. */
    interface Block extends AutoCloseable {

        /** {@return the pool the block came from} */
        DmaPool pool();

        /** {@return the address to hand the device} */
        long dmaAddress();

        /** {@return the block size in bytes} */
        long size();

        /**
         * {@return a new little-endian view of the block's bytes, position 0 to {@link #size()}}
         *
         * @throws DmaUsageException once the block is freed, or its pool or device is closed
         */
        ByteBuffer cpuView();

        /**
         * Frees the block ({@link DmaPool#free(long)}); a second close throws {@link DmaUsageException}. A quiet
         * no-op once the device or platform is closed.
         */
        @Override
        void close();
    }
}
