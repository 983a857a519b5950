package io.dmadirect.spi;

/**
 * CPU cache maintenance for devices that do not snoop caches. On x86 with coherent devices only the
 * fences matter; the JNI bridge provides real clean and invalidate instructions.
 */
public interface CacheMaintenance {

    /** Write dirty lines of {@code [cpuAddress, cpuAddress + size)} back to memory (for the device to read). */
    void clean(long cpuAddress, long size);

    /** Drop lines of the range, so that the CPU reads what the device wrote. */
    void invalidate(long cpuAddress, long size);

    /**
     * {@return the cache line in bytes, a power of two: what {@code dma_get_cache_alignment()} returns, and the
     * unit a non-coherent device's direct mapping must not share with CPU data} 64 unless a platform says
     * otherwise (x86, and most arm64 parts).
     */
    default int lineBytes() {
        return 64;
    }

    /** Clean and drop: the kernel's {@code arch_dma_prep_coherent()} and the bidirectional sync. */
    default void flush(long cpuAddress, long size) {
        clean(cpuAddress, size);
        invalidate(cpuAddress, size);
    }
}
