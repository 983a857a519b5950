package io.dmadirect;

/**
 * Attributes of an allocation or mapping: the kernel's {@code DMA_ATTR_*} and the one gfp property
 * that matters to dma-direct, whether the caller may block.
 */
public enum DmaAttr {
    /** The caller cannot block ({@code GFP_ATOMIC}): no growth of memory, no waiting, pool memory where the device needs it. */
    ATOMIC,
    /** {@code DMA_ATTR_NO_KERNEL_MAPPING}: the buffer has a DMA address but no CPU view. */
    NO_KERNEL_MAPPING,
    /**
     * {@code DMA_ATTR_NO_WARN}: a failure is expected and is not logged. A streaming mapping that fails (a full
     * bounce pool, a bounce beyond the pool's limit or the device's reach) logs a warning on the
     * {@code io.dmadirect.direct} logger unless this is given, as {@code swiotlb_tbl_map_single()} does; the
     * exception is thrown either way. An allocation ({@link DmaDevice#allocCoherent}, {@link DmaDevice#allocPages})
     * that finds no pages logs a warning unless this is given, as the kernel's page allocator does
     * ({@code warn_alloc()}) unless {@code dma_direct_alloc()} turned this attribute into {@code __GFP_NOWARN}; an
     * exhausted atomic or bounce pool logs nothing either way, as in the kernel. Both rate-limited (10 in 5 s).
     */
    NO_WARN,
    /**
     * {@code DMA_ATTR_SKIP_CPU_SYNC}: at map time, no cache maintenance for the device (a bounced mapping is
     * still copied in: the kernel copies at map whatever the attributes); at unmap time
     * ({@link DmaDevice#unmap(DmaMapping, DmaAttr...)}, {@link DmaMapping#closeWith(DmaAttr...)}), no cache
     * maintenance and no copy back. Each call's own attributes count: a map's do not carry over to its unmap.
     * Meaningless for an allocation, which syncs nothing: accepted and ignored there, as dma-direct does.
     */
    SKIP_CPU_SYNC,
    /**
     * Not a kernel attribute: skip zeroing the new buffer. The kernel always zeroes coherent memory;
     * a driver that fills its rings itself can save that cost.
     */
    SKIP_ZEROING,
    /**
     * {@code DMA_ATTR_WEAK_ORDERING}: reads and writes to the memory may be weakly ordered. <b>Accepted and
     * ignored</b>, everywhere: dma-direct never reads it (only a few architectures' IOMMU code does), and the
     * ordering a PCIe device may use is its Relaxed Ordering enable in config space, which is the driver's to set,
     * not a property of one buffer.
     */
    WEAK_ORDERING,
    /**
     * {@code DMA_ATTR_WRITE_COMBINE}: a write-combining CPU view ({@link DmaDevice#allocWc}). <b>Accepted and
     * ignored</b>: for a coherent device dma-direct ignores it too ({@code dma_pgprot()} applies it only to
     * the uncached remap of a non-coherent device), and a process cannot change the caching type of its
     * hugepage mapping (that is the kernel's page attribute table). The CPU view stays write-back cached;
     * for a non-coherent device the allocation is cleaned from the caches as any coherent allocation is.
     */
    WRITE_COMBINE,
    /**
     * {@code DMA_ATTR_FORCE_CONTIGUOUS}: the memory must be contiguous. <b>Honoured by construction</b>: every
     * allocation dma-direct makes is one contiguous run of DMA addresses (physical in PA mode, IOVA in IOVA mode),
     * so there is nothing to force; only the IOMMU's allocator reads it in the kernel.
     */
    FORCE_CONTIGUOUS,
    /**
     * {@code DMA_ATTR_ALLOC_SINGLE_PAGES}: a hint to an IOMMU allocator to build the buffer from single pages
     * rather than large ones. <b>Accepted and ignored</b>, as dma-direct ignores it: memory here comes from
     * hugepage frames split by the page allocator. The only kernel DMA attribute
     * {@link DmaDevice#allocNoncontiguous} accepts, as {@code dma_alloc_noncontiguous()}.
     */
    ALLOC_SINGLE_PAGES,
    /**
     * {@code DMA_ATTR_PRIVILEGED}: only privileged (supervisor) transactions of the device may reach the
     * memory, an IOMMU page-table bit. <b>Accepted and ignored</b>: dma-direct ignores it (PA mode has no IOMMU
     * to enforce it), and in IOVA mode it cannot be honoured, because memory is mapped into the IOMMU once, in
     * large chunks, with {@code VFIO_IOMMU_MAP_DMA} or {@code IOMMU_IOAS_MAP}, whose flags have no privileged
     * bit. See docs/kernel-map.md, "Where dmadirect differs".
     */
    PRIVILEGED,
    /**
     * {@code DMA_ATTR_REQUIRE_COHERENT} (Linux 7.1): the caller needs the device to see the CPU's memory as it is,
     * continuously, with no copy and no cache maintenance in between. A streaming mapping with it fails with
     * {@link DmaMappingException} instead of bouncing (a heap buffer, memory beyond the device's reach, forced
     * bouncing for a confidential guest) and on a device that is not cache-coherent, as the kernel's
     * {@code dma_map_phys()}/{@code dma_map_sg()} return {@code DMA_MAPPING_ERROR} where swiotlb or cache flushing
     * would otherwise be substituted. A shared memory ring polled by both sides, or memory the driver hands to
     * another process, is the userspace case. It also tells dma-debug (the agent) that the mapping may share
     * cache lines. Accepted and ignored by the allocation calls, which are coherent by definition.
     */
    REQUIRE_COHERENT,
    /**
     * {@code DMA_ATTR_DEBUGGING_IGNORE_CACHELINES} (Linux 7.1; briefly {@code DMA_ATTR_CPU_CACHE_CLEAN}): the
     * caller promises the CPU will not dirty a cache line this {@code FROM_DEVICE}/{@code BIDIRECTIONAL} mapping
     * shares with another while it is mapped, so dma-debug does not report the overlap. Only the agent's
     * overlapping-mappings check reads it; the library accepts and ignores it, as the kernel's mapping code does.
     */
    DEBUGGING_IGNORE_CACHELINES;

    final int bit() {
        return 1 << ordinal();
    }

    /**
     * {@return the attributes as a bit set, so that the hot path carries an int, not a collection}
     *
     * @param attrs the attributes, possibly none
     */
    public static int flags(DmaAttr... attrs) {
        int flags = 0;
        for (DmaAttr attr : attrs) {
            flags |= attr.bit();
        }
        return flags;
    }

    /**
     * {@return whether {@code flags} holds this attribute}
     *
     * @param flags a bit set from {@link #flags}
     */
    public boolean in(int flags) {
        return (flags & bit()) != 0;
    }
}
