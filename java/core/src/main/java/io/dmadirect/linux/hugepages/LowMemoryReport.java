package io.dmadirect.linux.hugepages;

import io.dmadirect.Sizes;

/**
 * What the low-memory reserve obtained ({@link LowMemorySearch}), against what was asked ({@link LowMemoryQuota}).
 *
 * @param bytesSearched pages mapped to look at their addresses (kept or given back)
 * @param ballastPeakBytes the most held back as ballast at one time; 0 when no ballast was used
 * @param nanos how long taking the reserve took
 * @param note why less was obtained, when known ("" otherwise)
 */
public record LowMemoryReport(long dmaRequested, long dmaObtained, long dma32Requested, long dma32Obtained,
        long bytesSearched, long ballastPeakBytes, long nanos, String note) {

    static LowMemoryReport none(LowMemoryQuota quota, String note) {
        return new LowMemoryReport(quota.dmaBytes(), 0, quota.dma32Bytes(), 0, 0, 0, 0, note);
    }

    /** Bytes obtained below 4 GiB, ZONE_DMA included. */
    public long lowBytes() {
        return dmaObtained + dma32Obtained;
    }

    @Override
    public String toString() {
        return "ZONE_DMA " + Sizes.format(dmaObtained) + " of " + Sizes.format(dmaRequested)
                + ", ZONE_DMA32 " + Sizes.format(dma32Obtained) + " of " + Sizes.format(dma32Requested)
                + " after searching " + Sizes.format(bytesSearched)
                + (ballastPeakBytes == 0 ? "" : " with a ballast of up to " + Sizes.format(ballastPeakBytes))
                + " in " + nanos / 1_000_000 + " ms" + (note.isEmpty() ? "" : " (" + note + ")");
    }
}
