package io.dmadirect.direct;

import io.dmadirect.memory.PageAllocator;
import java.nio.ByteBuffer;

/** Buffers served by the page allocator: the PAGES and CONTIGUOUS paths. */
final class PageBacking implements BufferBacking {
    private final PageAllocator pages;

    PageBacking(PageAllocator pages) {
        this.pages = pages;
    }

    @Override
    public long physAddress(long handle) {
        return pages.physAddress(handle);
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        return pages.cpuView(handle, length);
    }

    @Override
    public long cpuAddress(long handle) {
        return pages.cpuAddress(handle);
    }

    @Override
    public void free(long handle) {
        pages.free(handle); // also detaches the owner
    }

    /** A power-of-two number of pages or whole frames, by the handle's bits. */
    @Override
    public long byteSize(long handle, long size) {
        return pages.byteSize(handle);
    }
}
