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
     * exception is thrown either way.
     */
    NO_WARN,
    /**
     * {@code DMA_ATTR_SKIP_CPU_SYNC}: at map time, no cache maintenance for the device (a bounced mapping is
     * still copied in: the kernel copies at map whatever the attributes); at unmap time
     * ({@link DmaDevice#unmap(DmaMapping, DmaAttr...)}, {@link DmaMapping#closeWith(DmaAttr...)}), no cache
     * maintenance and no copy back. Each call's own attributes count: a map's do not carry over to its unmap.
     */
    SKIP_CPU_SYNC,
    /**
     * Not a kernel attribute: skip zeroing the new buffer. The kernel always zeroes coherent memory;
     * a driver that fills its rings itself can save that cost.
     */
    SKIP_ZEROING;

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
