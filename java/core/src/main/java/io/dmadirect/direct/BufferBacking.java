package io.dmadirect.direct;

import java.nio.ByteBuffer;

/**
 * Where a coherent buffer's memory lives (the page allocator, an atomic pool, the bounce pool), so
 * that freeing and viewing go back to the allocator that handed it out, as
 * {@code __dma_direct_free_pages()} and {@code dma_free_from_pool()} do.
 */
public interface BufferBacking {

    /** The physical address of the live allocation {@code handle}, as its allocator knows it. */
    long physAddress(long handle);

    ByteBuffer cpuView(long handle, int length);

    /** The CPU address of the live allocation {@code handle}: where a non-coherent buffer's syncs do cache maintenance. */
    long cpuAddress(long handle);

    void free(long handle);

    /**
     * The bytes held for the allocation {@code handle}, which {@code size} bytes were asked for: worked out from
     * the handle (or the size) alone, so that it is known after the free too and no buffer needs a field for it.
     */
    long byteSize(long handle, long size);
}
