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

    /** Clean and drop: the kernel's {@code arch_dma_prep_coherent()} and the bidirectional sync. */
    default void flush(long cpuAddress, long size) {
        clean(cpuAddress, size);
        invalidate(cpuAddress, size);
    }
}
