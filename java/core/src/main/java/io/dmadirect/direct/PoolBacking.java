package io.dmadirect.direct;

import io.dmadirect.pool.AtomicPools;
import java.nio.ByteBuffer;

/**
 * Buffers served by the atomic pools (the ATOMIC_POOL path). An adapter rather than the pools implementing
 * {@link BufferBacking} themselves, so that {@code pool} stays below {@code direct} in the package graph.
 */
final class PoolBacking implements BufferBacking {
    private final AtomicPools pools;

    PoolBacking(AtomicPools pools) {
        this.pools = pools;
    }

    @Override
    public long physAddress(long handle) {
        return pools.physAddress(handle);
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        return pools.cpuView(handle, length);
    }

    @Override
    public long cpuAddress(long handle) {
        return pools.cpuAddress(handle);
    }

    @Override
    public void free(long handle) {
        pools.free(handle);
    }

    /** The pool pages the handle counts. */
    @Override
    public long byteSize(long handle, long size) {
        return pools.byteSize(handle);
    }
}
