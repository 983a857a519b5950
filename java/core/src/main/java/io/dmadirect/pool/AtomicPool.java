package io.dmadirect.pool;

import io.dmadirect.Zone;
import java.util.Arrays;

/**
 * The atomic pool of one zone ({@code atomic_pool_dma}, {@code atomic_pool_dma32},
 * {@code atomic_pool_kernel}): chunks that were allocated, cache-cleaned and decrypted in advance, so an
 * allocation from them never blocks. Chunks are only added, never removed while the pool lives; the
 * array is replaced whole so readers need no lock.
 */
final class AtomicPool {
    final Zone zone;
    private volatile PoolChunk[] chunks = new PoolChunk[0];
    /** Whether a background expansion is queued, so only one is. */
    volatile boolean expanding;

    AtomicPool(Zone zone) {
        this.zone = zone;
    }

    PoolChunk[] chunks() {
        return chunks;
    }

    synchronized int add(PoolChunk chunk) {
        PoolChunk[] grown = Arrays.copyOf(chunks, chunks.length + 1);
        grown[grown.length - 1] = chunk;
        chunks = grown;
        return grown.length - 1;
    }

    long sizeBytes() {
        long pages = 0;
        for (PoolChunk chunk : chunks) {
            pages += chunk.pages;
        }
        return pages * AtomicPools.POOL_PAGE;
    }

    long availableBytes() {
        long pages = 0;
        for (PoolChunk chunk : chunks) {
            pages += chunk.freePages();
        }
        return pages * AtomicPools.POOL_PAGE;
    }
}
