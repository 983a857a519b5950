package io.dmadirect.spi;

import io.dmadirect.Zone;

/**
 * Where the zones begin, by physical address. ZONE_DMA ends at {@code 2^zoneDmaBits} (the kernel's
 * {@code zone_dma_bits}, 24 on x86 and configurable), ZONE_DMA32 at 4 GiB.
 */
public record ZoneLayout(int zoneDmaBits) {
    public static final int DEFAULT_ZONE_DMA_BITS = 24;
    public static final ZoneLayout DEFAULT = new ZoneLayout(DEFAULT_ZONE_DMA_BITS);
    private static final long DMA32_LIMIT = 0xffff_ffffL;

    public ZoneLayout {
        if (zoneDmaBits < 12 || zoneDmaBits > 32) {
            throw new IllegalArgumentException("zone_dma_bits must be 12 to 32, got " + zoneDmaBits);
        }
    }

    /** {@code zone_dma_limit}: the last physical address of ZONE_DMA. */
    public long zoneDmaLimit() {
        return (1L << zoneDmaBits) - 1;
    }

    /** The last physical address of the zone (unsigned; all ones for NORMAL). */
    public long limit(Zone zone) {
        switch (zone) {
            case DMA:
                return zoneDmaLimit();
            case DMA32:
                return DMA32_LIMIT;
            default:
                return -1L;
        }
    }

    /** The first physical address of the zone. */
    public long base(Zone zone) {
        return zone == Zone.DMA ? 0 : limit(zone.lower()) + 1;
    }

    /** The zone that holds {@code physAddress}. */
    public Zone zoneOf(long physAddress) {
        if (Long.compareUnsigned(physAddress, zoneDmaLimit()) <= 0) {
            return Zone.DMA;
        }
        if (Long.compareUnsigned(physAddress, DMA32_LIMIT) <= 0) {
            return Zone.DMA32;
        }
        return Zone.NORMAL;
    }
}
