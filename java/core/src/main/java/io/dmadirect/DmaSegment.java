package io.dmadirect;

/**
 * One DMA segment of a {@link NoncontiguousBuffer}: {@code sg_dma_address()} and {@code sg_dma_len()}.
 *
 * @param dmaAddress the address to hand the device
 * @param length     bytes
 */
public record DmaSegment(long dmaAddress, long length) {
}
