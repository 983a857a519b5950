package io.dmadirect.testing;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaRange;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The simulated machines the policy tables run on: each names its regions and how devices on it are
 * wired (bus limit, dma-range offset). Regions are kept small, but each zone that has memory holds at
 * least 64 MiB of it somewhere so the largest sizes can fit.
 */
public enum MemoryMaps {
    /** Everything below 4 GiB, as on a small machine: ZONE_NORMAL is empty. */
    ALL_LOW(b -> b.region(0, 16 * MiB).region(16 * MiB, 112 * MiB), d -> d),
    /** Nothing below 4 GiB: only hugepages from high memory. */
    NOTHING_BELOW_4G(b -> b.region(4 * GiB, 96 * MiB), d -> d),
    /** Only the first 16 MiB are low; ZONE_DMA32 is empty. */
    ONLY_16M_LOW(b -> b.region(0, 16 * MiB).region(4 * GiB, 96 * MiB), d -> d),
    /** Holes between regions in every zone. */
    WITH_HOLES(b -> b.region(2 * MiB, 8 * MiB).region(256 * MiB, 16 * MiB).region(3 * GiB, 80 * MiB)
            .region(8 * GiB, 80 * MiB).systemMaxPhys(12 * GiB - 1), d -> d),
    /** The bus carries only 30 bits, whatever the device's mask says. */
    BUS_LIMIT_30_BITS(b -> b.region(0, 16 * MiB).region(512 * MiB, 80 * MiB).region(3 * GiB, 80 * MiB)
            .region(4 * GiB, 64 * MiB), d -> d.withBusDmaLimit((1L << 30) - 1)),
    /** CPU memory from 2 GiB appears to the device at DMA address 0 (a dma-ranges offset). */
    DMA_RANGE_OFFSET(b -> b.region(2 * GiB, 80 * MiB).region(2 * GiB + 512 * MiB, 16 * MiB).region(4 * GiB, 80 * MiB),
            d -> d.withDmaRanges(List.of(new DmaRange(2 * GiB, 0, 4 * GiB))));

    private final UnaryOperator<SimulatedPlatform.Builder> regions;
    private final UnaryOperator<DeviceProperties> wiring;

    MemoryMaps(UnaryOperator<SimulatedPlatform.Builder> regions, UnaryOperator<DeviceProperties> wiring) {
        this.regions = regions;
        this.wiring = wiring;
    }

    public SimulatedPlatform.Builder builder() {
        return regions.apply(SimulatedPlatform.builder().name(name()));
    }

    public DeviceProperties device(String name) {
        return wiring.apply(DeviceProperties.simple(name));
    }
}
