package io.dmadirect;

/** {@code enum dma_data_direction}: which way the data of a streaming mapping moves. */
public enum DmaDirection {
    /** The device may read and write: a bounced mapping copies both ways, at every map, sync and unmap. */
    BIDIRECTIONAL,
    /** The device reads what the CPU wrote: a bounced mapping copies at map and at {@code syncForDevice}. */
    TO_DEVICE,
    /** The device writes for the CPU: a bounced mapping copies back at {@code syncForCpu} and at unmap. */
    FROM_DEVICE,
    /** {@code DMA_NONE}: for debugging only; mapping with it is refused. */
    NONE
}
