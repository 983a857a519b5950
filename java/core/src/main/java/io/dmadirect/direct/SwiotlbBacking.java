package io.dmadirect.direct;

import java.nio.ByteBuffer;

/** Buffers served by the bounce pool for a restricted device (the SWIOTLB path). */
final class SwiotlbBacking implements BufferBacking {
    private final SwiotlbAllocator swiotlb;

    SwiotlbBacking(SwiotlbAllocator swiotlb) {
        this.swiotlb = swiotlb;
    }

    @Override
    public long physAddress(long handle) {
        return swiotlb.physAddress(handle);
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        return swiotlb.cpuView(handle, length);
    }

    @Override
    public long cpuAddress(long handle) {
        return swiotlb.cpuAddress(handle);
    }

    @Override
    public void free(long handle) {
        if (!swiotlb.free(handle)) {
            throw new IllegalStateException("failed to free bounce-pool memory 0x" + Long.toHexString(handle)
                    + ": the pool does not know it");
        }
    }

    /** {@code swiotlb_alloc()} is asked for the page-aligned size and holds exactly that. */
    @Override
    public long byteSize(long handle, long size) {
        return DmaDirect.pageAlign(size, io.dmadirect.memory.PageAllocator.PAGE_SIZE);
    }
}
