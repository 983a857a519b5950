package io.dmadirect.memory;

/**
 * Tuning of {@link BuddyPageAllocator}.
 *
 * @param dmaReserveRatio     the kernel's {@code lowmem_reserve_ratio} for ZONE_DMA: the share of the memory
 *                            of the zones above it that ZONE_DMA keeps back from their requests is
 *                            {@code 1/ratio}; 0 gives no protection
 * @param dma32ReserveRatio   the same for ZONE_DMA32 (protecting it from ZONE_NORMAL requests)
 * @param arenasPerZone       striped buddy arenas per zone, each with its own lock; a power of two
 * @param threadCacheMaxOrder the largest order that per-thread caches hold (4 is 64 KiB)
 * @param threadCacheEntries  handles cached per thread, zone and order 0; half as many at each higher
 *                            order, at least 4; 0 turns the caches off
 * @param keepWholeFrames     wholly free frames an arena keeps instead of returning them to the zone,
 *                            so that a workload that frees and allocates at a frame's edge does not thrash
 * @see <a href="https://docs.kernel.org/admin-guide/sysctl/vm.html#lowmem-reserve-ratio">vm.lowmem_reserve_ratio</a>
 */
public record AllocatorConfig(int dmaReserveRatio, int dma32ReserveRatio, int arenasPerZone,
                              int threadCacheMaxOrder, int threadCacheEntries, int keepWholeFrames) {

    /** The kernel's default {@code lowmem_reserve_ratio} for ZONE_DMA and ZONE_DMA32. */
    public static final int KERNEL_DEFAULT_RATIO = 256;

    public static final AllocatorConfig DEFAULT = new AllocatorConfig(KERNEL_DEFAULT_RATIO, KERNEL_DEFAULT_RATIO,
            defaultArenas(), 4, 64, 1);

    public AllocatorConfig {
        if (dmaReserveRatio < 0 || dma32ReserveRatio < 0) {
            throw new IllegalArgumentException("lowmem reserve ratios must not be negative, got "
                    + dmaReserveRatio + " and " + dma32ReserveRatio);
        }
        if (arenasPerZone < 1 || arenasPerZone > 256 || Integer.bitCount(arenasPerZone) != 1) {
            throw new IllegalArgumentException("arenasPerZone must be a power of two from 1 to 256, got "
                    + arenasPerZone);
        }
        if (threadCacheMaxOrder < 0 || threadCacheMaxOrder > 10) {
            throw new IllegalArgumentException("threadCacheMaxOrder must be 0 to 10, got " + threadCacheMaxOrder);
        }
        if (threadCacheEntries < 0 || threadCacheEntries > 1 << 16) {
            throw new IllegalArgumentException("threadCacheEntries must be 0 to 65536, got " + threadCacheEntries);
        }
        if (keepWholeFrames < 0) {
            throw new IllegalArgumentException("keepWholeFrames must not be negative, got " + keepWholeFrames);
        }
    }

    public AllocatorConfig withReserveRatios(int dmaRatio, int dma32Ratio) {
        return new AllocatorConfig(dmaRatio, dma32Ratio, arenasPerZone, threadCacheMaxOrder, threadCacheEntries,
                keepWholeFrames);
    }

    public AllocatorConfig withArenasPerZone(int arenas) {
        return new AllocatorConfig(dmaReserveRatio, dma32ReserveRatio, arenas, threadCacheMaxOrder,
                threadCacheEntries, keepWholeFrames);
    }

    public AllocatorConfig withThreadCache(int maxOrder, int entries) {
        return new AllocatorConfig(dmaReserveRatio, dma32ReserveRatio, arenasPerZone, maxOrder, entries,
                keepWholeFrames);
    }

    public AllocatorConfig withKeepWholeFrames(int frames) {
        return new AllocatorConfig(dmaReserveRatio, dma32ReserveRatio, arenasPerZone, threadCacheMaxOrder,
                threadCacheEntries, frames);
    }

    /** Handles a thread caches for {@code order}; 0 when orders that large are not cached. */
    int cacheCapacity(int order) {
        if (threadCacheEntries == 0 || order > threadCacheMaxOrder) {
            return 0;
        }
        return Math.max(4, threadCacheEntries >> order);
    }

    /** One arena per CPU, rounded up to a power of two: threads rarely meet on an arena lock. */
    private static int defaultArenas() {
        int cpus = Math.min(Runtime.getRuntime().availableProcessors(), 64);
        return Integer.highestOneBit(Math.max(1, cpus * 2 - 1));
    }
}
