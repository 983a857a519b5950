package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.Zone;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import org.junit.jupiter.api.Test;

/**
 * The layout of a fresh host (issue 14): hugepages reserved at run time all lie high, and the low-memory
 * reserve obtained 8 MiB below 4 GiB as four scattered 2 MiB pages. With the pools a Linux platform opens
 * with by default, a 32-bit driver must still get a 2 MiB coherent buffer: low memory goes to what needs
 * it, and a bounce pool that serves no 32-bit device takes none of it.
 */
class FreshHostLayoutTest {
    private static final long PAGE = 2 * MiB;
    /** The four DMA32 pages the reserve found on the host where this failed, 0x1a400000 among them. */
    private static final long[] LOW_PAGES = {0x1a40_0000L, 0x2e60_0000L, 0x5a20_0000L, 0xb380_0000L};

    /** 16 hugepages high, every other frame, as the initial segment got them, and the four low ones. */
    static SimulatedPlatform.Builder freshHost() {
        LinuxPlatformOptions linux = LinuxPlatformOptions.DEFAULTS;
        SimulatedPlatform.Builder builder = SimulatedPlatform.builder().name("fresh-host")
                .atomicPools(linux.atomicPoolBytes(), linux.atomicPoolMaxBytes())
                .bouncePool(linux.bounce())
                .systemMaxPhys(25 * GiB - 1);
        for (long page : LOW_PAGES) {
            builder.region(page, PAGE);
        }
        for (int i = 0; i < 16; i++) {
            builder.region(0x6_2000_0000L + 2L * i * PAGE, PAGE);
        }
        return builder;
    }

    @Test
    void a32BitDriverGetsA2MiBBufferBelow4GiBBesideTheDefaultPools() {
        try (SimulatedPlatform platform = freshHost().build();
                DmaDevice device = platform.attach(DeviceProperties.simple("mask32"))) {
            device.setMaskAndCoherent(DmaMask.BITS_32);
            try (DmaBuffer buffer = device.allocCoherent(PAGE)) {
                assertTrue(buffer.dmaAddress() + PAGE - 1 <= 0xffff_ffffL, buffer.toString());
                assertEquals(Zone.DMA32, buffer.zone(), buffer.toString());
            }
        }
    }

    @Test
    void a32BitDeviceBouncesBelow4GiBAndA64BitDeviceUsesThePoolAboveFirst() {
        try (SimulatedPlatform platform = freshHost().build();
                DmaDevice narrow = platform.attach(DeviceProperties.simple("mask32"));
                DmaDevice wide = platform.attach(DeviceProperties.simple("mask64"))) {
            narrow.setMaskAndCoherent(DmaMask.BITS_32);
            wide.setMaskAndCoherent(DmaMask.BITS_64);
            byte[] data = new byte[4096];
            try (DmaMapping low = narrow.map(data, 0, data.length, DmaDirection.TO_DEVICE);
                    DmaMapping high = wide.map(data, 0, data.length, DmaDirection.TO_DEVICE)) {
                assertTrue(low.dmaAddress() + data.length - 1 <= 0xffff_ffffL, low.toString());
                assertTrue(Long.compareUnsigned(high.dmaAddress(), 0xffff_ffffL) > 0,
                        "the 64-bit device leaves the low part to those that need it: " + high);
            }
        }
    }

    @Test
    void aBouncePoolThatReachesPast4GiBTakesNothingBelowIt() {
        try (SimulatedPlatform platform = freshHost().build()) {
            Swiotlb bounce = platform.direct.swiotlb();
            for (long[] pool : bounce.poolRanges()) {
                boolean servesMask32 = Long.compareUnsigned(pool[1], 0xffff_ffffL) <= 0;
                boolean takesLowMemory = Long.compareUnsigned(pool[0], 0xffff_ffffL) <= 0;
                assertTrue(servesMask32 || !takesLowMemory, "a bounce pool spans 0x"
                        + Long.toHexString(pool[0]) + "..0x" + Long.toHexString(pool[1]));
            }
        }
    }
}
