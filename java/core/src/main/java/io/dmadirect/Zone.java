package io.dmadirect;

/**
 * The kernel's memory zones, by physical address: {@code ZONE_DMA} below {@code 2^zone_dma_bits}
 * (16 MiB by default), {@code ZONE_DMA32} below 4 GiB, {@code ZONE_NORMAL} above. Declared from low
 * to high, so {@link #ordinal()} order is the order of the kernel's zonelist fallback read backwards.
 */
public enum Zone {
    DMA,
    DMA32,
    NORMAL;

    /** The next lower zone, or {@code null} below ZONE_DMA. */
    public Zone lower() {
        return this == DMA ? null : values()[ordinal() - 1];
    }
}
