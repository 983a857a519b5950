package io.dmadirect.junit;

import io.dmadirect.DeviceProperties;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;

/**
 * Builds the simulated machine of each {@link Shape}. The machines are small (tens of MiB, all of it real
 * off-heap memory, freed after each test) but keep the zone boundaries that matter: 16 MiB (ZONE_DMA) and
 * 4 GiB (ZONE_DMA32).
 */
final class SimulatedShapes {
    private static final long FOUR_GIB = 1L << 32;

    private SimulatedShapes() {
    }

    static SimulatedPlatform platform(Shape shape) {
        SimulatedPlatform.Builder b = SimulatedPlatform.builder().name("dmadirect-junit " + shape.name().toLowerCase());
        if (shape == Shape.NO_LOW_MEMORY) {
            // A machine whose memory held lies above 4 GiB, with a little to obtain below on demand (as the rig's
            // highmem variants): a 32-bit driver must find it, a 24-bit one finds none.
            return b.region(FOUR_GIB, 48 * Sizes.MiB).obtainable(0x0100_0000L, 4 * Sizes.MiB).build();
        }
        b.region(0, 16 * Sizes.MiB).region(0x0100_0000L, 32 * Sizes.MiB).region(FOUR_GIB, 32 * Sizes.MiB);
        switch (shape) {
            case TINY_BOUNCE_POOL:
                // One swiotlb segment: 128 slots of 2 KiB.
                b.bouncePool(SwiotlbConfig.defaults().withBytes(256 * Sizes.KiB));
                break;
            case FORCED_BOUNCE:
                b.forceBounce(true);
                break;
            case CONFIDENTIAL_GUEST:
                b.confidentialGuest(true).encryptionMask(1L << 47);
                break;
            case IOVA:
                b.iommu(SimulatedIommu.likeIntelIommu());
                break;
            default:
                break;
        }
        return b.build();
    }

    /** The device's DMA properties in {@code shape}: only {@link Shape#LIMIT_24_BIT} limits its bus. */
    static DeviceProperties device(Shape shape, String name) {
        DeviceProperties p = DeviceProperties.simple(name);
        return shape == Shape.LIMIT_24_BIT ? p.withBusDmaLimit(0xff_ffffL) : p;
    }
}
