package io.dmadirect;

/** {@code enum dma_data_direction}: which way the data of a streaming mapping moves. */
public enum DmaDirection {
    BIDIRECTIONAL,
    TO_DEVICE,
    FROM_DEVICE,
    NONE
}
