package io.dmadirect.linux;

/**
 * The low-memory reserve (DESIGN §5): userspace has no GFP_DMA, so to get memory of the kernel's low
 * zones it takes extra hugepages, keeps those that lie low, and gives the rest back. Best effort: which
 * pages the pool holds was decided when they were reserved.
 *
 * @param dmaBytes wanted below {@code 2^zone_dma_bits} (16 MiB by default)
 * @param dma32Bytes wanted below 4 GiB, besides {@code dmaBytes}
 * @param searchBytes how much extra memory to take to look through, at most what the pool has free
 */
public record LowMemoryReserve(long dmaBytes, long dma32Bytes, long searchBytes) {
    public static final LowMemoryReserve NONE = new LowMemoryReserve(0, 0, 0);

    public LowMemoryReserve {
        if (dmaBytes < 0 || dma32Bytes < 0 || searchBytes < 0) {
            throw new IllegalArgumentException("sizes must not be negative");
        }
    }

    public boolean wanted() {
        return dmaBytes > 0 || dma32Bytes > 0;
    }
}
