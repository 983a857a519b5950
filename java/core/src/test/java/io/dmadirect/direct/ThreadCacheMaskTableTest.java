package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.Zone;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The per-thread cache never hands a device memory its coherent mask does not reach (issue 18): the cache is per
 * zone, not per device, so a wide device's frees park pages a narrower device of the same zone must not get, and
 * {@code dma_coherent_ok()} on every reused page is what keeps the narrower device honest, as in the kernel's
 * {@code __dma_direct_alloc_pages()}.
 *
 * <p>The machine: ZONE_DMA [0, 4 MiB); ZONE_DMA32 with a little memory at 1 GiB and more at 3 GiB; ZONE_NORMAL at
 * 4 GiB. Per row, on one thread: a 32-bit device allocates and frees enough to fill its cache with pages of both
 * DMA32 runs (so above 2 GiB too); then the row's device allocates the same sizes, from that same thread's cache
 * where it may. Every buffer must lie within the row's mask and come from a zone no higher than its optimal one.
 */
class ThreadCacheMaskTableTest {
    private static final int ROUNDS = 24;

    static Stream<Arguments> devices() {
        // mask bits, optimal zone (zone_dma_bits 24): the kernel's dma_direct_optimal_gfp_mask()
        return Stream.of(
                Arguments.of(64, Zone.NORMAL),
                Arguments.of(33, Zone.NORMAL),
                Arguments.of(32, Zone.DMA32),
                Arguments.of(31, Zone.DMA32),
                Arguments.of(30, Zone.DMA32),
                Arguments.of(24, Zone.DMA));
    }

    @ParameterizedTest(name = "{0}-bit device after a 32-bit one filled the cache")
    @MethodSource("devices")
    void aReusedPageIsWithinTheMaskOfTheDeviceThatGetsIt(int bits, Zone optimal) {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 4 * MiB).region(GiB, 4 * MiB)
                .region(3 * GiB, 16 * MiB).region(4 * GiB, 16 * MiB).atomicPools(0, 0).build()) {
            DmaDevice wide = platform.attach(DeviceProperties.simple("wide"));
            wide.setMaskAndCoherent(DmaMask.BITS_32);
            DmaDevice device = platform.attach(DeviceProperties.simple("narrow"));
            device.setMaskAndCoherent(DmaMask.bits(bits));
            long limit = DmaMask.bits(bits).value();
            int skip = DmaAttr.flags(DmaAttr.SKIP_ZEROING);
            boolean cacheHeldMemoryBeyondTheMask = false;
            for (long size : new long[] {64, 16384, 65536}) {
                List<DmaBuffer> warm = new ArrayList<>();
                for (int i = 0; i < ROUNDS; i++) {
                    DmaBuffer b = wide.allocCoherent(size, skip);
                    cacheHeldMemoryBeyondTheMask |= Long.compareUnsigned(lastByte(b), limit) > 0;
                    warm.add(b);
                }
                warm.forEach(DmaBuffer::close); // into this thread's cache, DMA32 pages of both runs
                List<DmaBuffer> taken = new ArrayList<>();
                for (int i = 0; i < ROUNDS; i++) {
                    DmaBuffer b = device.allocCoherent(size, skip);
                    taken.add(b);
                    assertTrue(Long.compareUnsigned(lastByte(b), limit) <= 0, bits + "-bit device got " + b);
                    assertTrue(b.zone().ordinal() <= optimal.ordinal(), bits + "-bit device got " + b
                            + " from above its optimal zone " + optimal);
                    assertEquals(optimal, b.report().optimalZone());
                }
                taken.forEach(DmaBuffer::close);
            }
            if (bits < 32) {
                assertTrue(cacheHeldMemoryBeyondTheMask, "the test must park pages the " + bits
                        + "-bit device may not have; none were beyond its mask");
            }
        }
    }

    private static long lastByte(DmaBuffer b) {
        return b.dmaAddress() + b.allocatedSize() - 1;
    }

    /** A page reused from the cache is zeroed again unless the caller skips it, with either form of the attributes. */
    @ParameterizedTest(name = "zeroed on reuse: {0}")
    @MethodSource("zeroingForms")
    void aReusedPageIsZeroedUnlessSkipped(String form, boolean intForm) {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(4 * GiB, 8 * MiB).atomicPools(0, 0)
                .build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("zero"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer dirty = device.allocCoherent(4096, 0);
            long dma = dirty.dmaAddress();
            dirty.cpuView().put(100, (byte) 0x5a);
            dirty.close();
            DmaBuffer again = intForm ? device.allocCoherent(4096, 0) : device.allocCoherent(4096);
            assertEquals(dma, again.dmaAddress(), "the freed page comes back from the thread's cache");
            assertEquals(0, again.cpuView().get(100), "a reused page must be zeroed");
            again.cpuView().put(100, (byte) 0x5a);
            again.close();
            DmaBuffer skipped = intForm ? device.allocCoherent(4096, DmaAttr.flags(DmaAttr.SKIP_ZEROING))
                    : device.allocCoherent(4096, DmaAttr.SKIP_ZEROING);
            assertEquals(0x5a, skipped.cpuView().get(100), "SKIP_ZEROING leaves the old bytes");
            skipped.close();
        }
    }

    static Stream<Arguments> zeroingForms() {
        return Stream.of(Arguments.of("DmaAttr...", false), Arguments.of("int flags", true));
    }
}
