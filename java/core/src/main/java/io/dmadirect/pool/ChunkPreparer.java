package io.dmadirect.pool;

/**
 * Readies fresh pool memory the way {@code atomic_pool_expand()} does: clean the CPU caches
 * ({@code arch_dma_prep_coherent}) and make it shared ({@code set_memory_decrypted}) when the platform
 * encrypts memory.
 */
@FunctionalInterface
public interface ChunkPreparer {

    /** @return false when decryption failed and the memory's state is unknown; the chunk is then leaked */
    boolean prepare(long physAddress, long cpuAddress, long size);
}
