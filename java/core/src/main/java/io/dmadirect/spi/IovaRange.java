package io.dmadirect.spi;

import io.dmadirect.Sizes;

/**
 * An inclusive interval of I/O virtual addresses, as the kernel reports valid ones
 * ({@code struct vfio_iova_range}, {@code struct iommu_iova_range}: {@code start} and inclusive {@code end}).
 * IOVAs are kept in {@code [0, Long.MAX_VALUE]}: no IOMMU we drive has more than 63 address bits.
 */
public record IovaRange(long first, long last) {

    public IovaRange {
        if (first < 0 || last < first) {
            throw new IllegalArgumentException("not an IOVA range: " + Sizes.hex(first) + "-" + Sizes.hex(last)
                    + " (need 0 <= first <= last <= 0x7fffffffffffffff)");
        }
    }

    /** From the kernel's unsigned values; the top of a 64-bit range is clipped to {@link Long#MAX_VALUE}. */
    public static IovaRange ofUnsigned(long first, long last) {
        return new IovaRange(first < 0 ? Long.MAX_VALUE : first, last < 0 ? Long.MAX_VALUE : last);
    }

    /** Bytes covered; saturates at {@link Long#MAX_VALUE}. */
    public long size() {
        long n = last - first;
        return n == Long.MAX_VALUE ? n : n + 1;
    }

    public boolean contains(long iova) {
        return iova >= first && iova <= last;
    }

    @Override
    public String toString() {
        return Sizes.hex(first) + "-" + Sizes.hex(last);
    }
}
