package io.dmadirect.linux.hugepages;

/**
 * What the low-memory reserve (DESIGN §5) should obtain: how much below 16 MiB and 4 GiB, and how hard
 * {@link LowMemorySearch} may try; the result is a {@link LowMemoryReport}. Userspace has no GFP_DMA32, so
 * to get memory of the kernel's low zones the search takes extra hugepages, keeps those that lie low, and
 * gives the rest back. (Not the kernel's {@code lowmem_reserve}, which our page allocator models as
 * {@code memory.ZoneProtection}.)
 *
 * <p>Two ways, in this order:
 * <ol>
 *   <li><b>search</b> the pool's free pages: they are wherever the kernel found them when they were
 *       reserved. Boot-time {@code hugepages=N} pages often lie low; pages reserved at run time come
 *       from ZONE_NORMAL first and on a large host all lie above 4 GiB;</li>
 *   <li><b>ballast</b>: hold back surplus hugepages (reserved, never touched) until the kernel has no
 *       free 2 MiB block left in ZONE_NORMAL and hands out ZONE_DMA32 pages, take those, give the
 *       ballast back (see {@link Ballast}). It needs root and holds, for a moment, about the free
 *       memory of ZONE_NORMAL; {@code ballastBytes} caps that, and it also stops while 1 GiB is still
 *       available to the host. ZONE_DMA stays out of reach this way: the kernel's lowmem_reserve keeps
 *       it for allocations that need it.</li>
 * </ol>
 *
 * @param dmaBytes wanted below {@code 2^zone_dma_bits} (16 MiB by default)
 * @param dma32Bytes wanted below 4 GiB, besides {@code dmaBytes}
 * @param searchBytes how much of the pool's free pages to look through, at most what the pool has free
 * @param ballastBytes the most the ballast may take newly from the page allocator, for a moment; the pool's
 *        free hugepages it holds first are not counted, since holding them pushes the kernel nowhere. 0 for no
 *        ballast
 */
public record LowMemoryQuota(long dmaBytes, long dma32Bytes, long searchBytes, long ballastBytes) {
    public static final LowMemoryQuota NONE = new LowMemoryQuota(0, 0, 0, 0);

    public LowMemoryQuota {
        if (dmaBytes < 0 || dma32Bytes < 0 || searchBytes < 0 || ballastBytes < 0) {
            throw new IllegalArgumentException("sizes must not be negative");
        }
    }

    /** Only the search of the pool's free pages, as before the ballast existed. */
    public LowMemoryQuota(long dmaBytes, long dma32Bytes, long searchBytes) {
        this(dmaBytes, dma32Bytes, searchBytes, 0);
    }

    public boolean wanted() {
        return dmaBytes > 0 || dma32Bytes > 0;
    }
}
