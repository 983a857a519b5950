package io.dmadirect.dmapool;

import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A block of the object path. It remembers whether it was freed, so that a second close is refused even when
 * the pool has handed the same address to someone else since.
 */
final class PoolBlock implements DmaPool.Block {
    private final BlockPool pool;
    private final long dmaAddress;
    private final AtomicBoolean freed = new AtomicBoolean();

    PoolBlock(BlockPool pool, long dmaAddress) {
        this.pool = pool;
        this.dmaAddress = dmaAddress;
    }

    @Override
    public DmaPool pool() {
        return pool;
    }

    @Override
    public long dmaAddress() {
        return dmaAddress;
    }

    @Override
    public long size() {
        return pool.blockSize();
    }

    @Override
    public ByteBuffer cpuView() {
        if (freed.get()) {
            throw new DmaUsageException("failed to give a CPU view of " + this + ": it has been freed");
        }
        ByteBuffer page = pool.pageView(dmaAddress).duplicate();
        int offset = pool.pageOffset(dmaAddress);
        page.limit(offset + (int) pool.blockSize()).position(offset);
        return page.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        if (pool.deviceIsClosed()) {
            return;
        }
        if (!freed.compareAndSet(false, true)) {
            throw new DmaUsageException("failed to free " + this + ": it was already freed (double free)");
        }
        try {
            pool.free(dmaAddress);
        } catch (DmaUsageException e) {
            if (!pool.deviceIsClosed()) {
                throw e;
            }
        }
    }

    @Override
    public String toString() {
        return "block " + Sizes.hex(dmaAddress) + " of DMA pool " + pool.name();
    }
}
