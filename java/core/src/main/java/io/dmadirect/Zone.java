package io.dmadirect;

/**
 * The kernel's memory zones, by physical address: {@code ZONE_DMA} below {@code 2^zone_dma_bits}
 * (16 MiB by default), {@code ZONE_DMA32} below 4 GiB, {@code ZONE_NORMAL} above. Declared from low
 * to high, so {@link #ordinal()} order is the order of the kernel's zonelist fallback read backwards.
 */
public enum Zone {
    /** {@code ZONE_DMA}: below {@code 2^zone_dma_bits}, for devices with the narrowest masks. */
    DMA,
    /** {@code ZONE_DMA32}: from the end of ZONE_DMA up to 4 GiB, for 32-bit devices. */
    DMA32,
    /** {@code ZONE_NORMAL}: everything at or above 4 GiB. */
    NORMAL;

    /** {@return the next lower zone, or {@code null} below ZONE_DMA} */
    public Zone lower() {
        return this == DMA ? null : values()[ordinal() - 1];
    }
}
