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
    /** {@code DMA_ATTR_NO_WARN}: an allocation failure is expected and is not logged. */
    NO_WARN,
    /** {@code DMA_ATTR_SKIP_CPU_SYNC}: a mapping or unmapping does no cache maintenance or bounce copy. */
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
