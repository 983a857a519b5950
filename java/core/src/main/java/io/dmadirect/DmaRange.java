package io.dmadirect;

/**
 * One entry of a device's dma-range map ({@code struct bus_dma_region}): CPU physical addresses
 * {@code [cpuStart, cpuStart + size)} appear to the device at {@code [dmaStart, dmaStart + size)}.
 *
 * @param cpuStart the first CPU physical address of the range
 * @param dmaStart the DMA address the device uses for {@code cpuStart}
 * @param size     bytes in the range
 */
public record DmaRange(long cpuStart, long dmaStart, long size) {
    /**
     * Checks that the range is not empty and does not wrap around the address space.
     *
     * @param cpuStart the first CPU physical address
     * @param dmaStart the DMA address the device uses for it
     * @param size     bytes, positive
     */
    public DmaRange {
        if (size <= 0) {
            throw new IllegalArgumentException("a dma-range needs a positive size, got " + size);
        }
        if (Long.compareUnsigned(cpuStart + size - 1, cpuStart) < 0
                || Long.compareUnsigned(dmaStart + size - 1, dmaStart) < 0) {
            throw new IllegalArgumentException("dma-range " + this + " wraps around the address space");
        }
    }

    /** {@return the signed distance the device sees memory moved by ({@code m->offset} in the kernel)} */
    public long offset() {
        return dmaStart - cpuStart;
    }

    @Override
    public String toString() {
        return String.format("cpu 0x%x -> dma 0x%x, size 0x%x", cpuStart, dmaStart, size);
    }
}
