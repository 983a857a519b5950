package io.dmadirect.linux;

import io.dmadirect.Sizes;

/**
 * What the low-memory reserve obtained, against what was asked.
 *
 * @param note why less was obtained, when known ("" otherwise)
 */
public record LowMemoryReport(long dmaRequested, long dmaObtained, long dma32Requested, long dma32Obtained,
        long bytesSearched, String note) {

    static LowMemoryReport none(LowMemoryReserve reserve, String note) {
        return new LowMemoryReport(reserve.dmaBytes(), 0, reserve.dma32Bytes(), 0, 0, note);
    }

    @Override
    public String toString() {
        return "ZONE_DMA " + Sizes.format(dmaObtained) + " of " + Sizes.format(dmaRequested)
                + ", ZONE_DMA32 " + Sizes.format(dma32Obtained) + " of " + Sizes.format(dma32Requested)
                + " after searching " + Sizes.format(bytesSearched) + (note.isEmpty() ? "" : " (" + note + ")");
    }
}
