package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.Zone;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.Test;

/**
 * Low memory on demand, on the layout of the issue 14 rig guest: every hugepage held lies above 4 GiB, and
 * the machine has memory free below it that the platform does not hold. A driver whose mask needs that
 * memory gets it, as the kernel's ZONE_DMA32 and ZONE_DMA would serve it; when none can be had, the
 * refusal says what was tried and the remedy that fits the mask.
 */
class LowMemoryOnDemandTest {
    private static final long PAGE = 2 * MiB;

    /** 64 MiB of hugepages at 5 GiB; free below 4 GiB: a frame at 64 MiB, one at 200 MiB, one at 1 GiB. */
    private static SimulatedPlatform.Builder highOnlyGuest() {
        return SimulatedPlatform.builder().name("highmem-guest").region(5 * GiB, 64 * MiB)
                .obtainable(64 * MiB, PAGE).obtainable(200 * MiB, PAGE).obtainable(GiB, PAGE)
                .systemMaxPhys(8 * GiB - 1);
    }

    @Test
    void a28BitDriverGetsMemoryBelow256MiBOnDemand() {
        try (SimulatedPlatform platform = highOnlyGuest().build();
                DmaDevice edu = platform.attach(DeviceProperties.simple("edu"))) {
            edu.setMaskAndCoherent(DmaMask.bits(28));
            try (DmaBuffer buffer = edu.allocCoherent(4095)) {
                assertTrue(buffer.dmaAddress() + 4095 - 1 < 256 * MiB, buffer.toString());
                assertEquals(Zone.DMA32, buffer.zone());
            }
            assertEquals(PAGE, platform.direct.lowMemoryOnDemandBytes(), "one frame, the lowest");
            assertEquals(2 * PAGE, platform.memoryStats().zone(Zone.DMA32).total() + PAGE,
                    "the frame at 1 GiB was not taken: " + platform.memoryStats());
        }
    }

    @Test
    void anAllocationThatFindsItsLowMemoryUsedUpObtainsMoreBelowTheLimit() {
        try (SimulatedPlatform platform = highOnlyGuest().atomicPools(0, 0).build();
                DmaDevice edu = platform.attach(DeviceProperties.simple("edu"))) {
            edu.setMaskAndCoherent(DmaMask.bits(28));
            try (DmaBuffer first = edu.allocCoherent(PAGE); DmaBuffer second = edu.allocCoherent(PAGE)) {
                assertTrue(first.dmaAddress() + PAGE <= 256 * MiB && second.dmaAddress() + PAGE <= 256 * MiB,
                        first + " " + second);
                assertEquals(2 * PAGE, platform.direct.lowMemoryOnDemandBytes());
            }
            // Nothing is left below 256 MiB: the third fails, saying what was tried.
            try (DmaBuffer a = edu.allocCoherent(PAGE); DmaBuffer b = edu.allocCoherent(PAGE)) {
                var e = assertThrows(io.dmadirect.DmaAllocationException.class, () -> edu.allocCoherent(PAGE));
                assertTrue(e.getMessage().contains("low memory on demand"), e.getMessage());
            }
        }
    }

    @Test
    void a28BitDriversHeapMappingBouncesThroughAnExtraPoolOfLowMemoryObtainedOnDemand() {
        try (SimulatedPlatform platform = highOnlyGuest()
                .bouncePool(io.dmadirect.spi.SwiotlbConfig.processDefaults().withDynamicMax(8 * MiB)).build();
                DmaDevice edu = platform.attach(DeviceProperties.simple("edu"))) {
            edu.setMaskAndCoherent(DmaMask.bits(28));
            try (DmaBuffer ring = edu.allocCoherent(4096)) {
                // The frame obtained for the mask is in use; the heap mapping needs a pool of its own below 256 MiB.
                byte[] data = new byte[4095];
                try (io.dmadirect.DmaMapping mapping = edu.map(data, 0, data.length, io.dmadirect.DmaDirection.TO_DEVICE)) {
                    assertTrue(mapping.isBounced() && mapping.dmaAddress() + data.length <= 256 * MiB, mapping.toString());
                }
            }
            assertEquals(2 * PAGE, platform.memoryStats().zone(Zone.DMA32).total(),
                    "one frame obtained for the mask, one for the extra pool: " + platform.memoryStats());
        }
    }

    @Test
    void a64BitDriverNeverTakesLowMemoryOnDemand() {
        try (SimulatedPlatform platform = highOnlyGuest().build();
                DmaDevice nic = platform.attach(DeviceProperties.simple("nic"))) {
            nic.setMaskAndCoherent(DmaMask.BITS_64);
            try (DmaBuffer buffer = nic.allocCoherent(PAGE)) {
                assertFalse(buffer.dmaAddress() < 4 * GiB, buffer.toString());
            }
            assertEquals(0, platform.direct.lowMemoryOnDemandBytes());
        }
    }

    @Test
    void a24BitMaskThatCannotBeServedNamesWhatWasTriedAndTheZoneDmaRemedy() {
        try (SimulatedPlatform platform = highOnlyGuest().build();
                DmaDevice isa = platform.attach(DeviceProperties.simple("isa"))) {
            DmaMaskUnsupportedException e = assertThrows(DmaMaskUnsupportedException.class,
                    () -> isa.setMaskAndCoherent(DmaMask.bits(24)));
            assertTrue(e.getMessage().contains("0 of 1 frames free below 0xffffff"), e.getMessage());
            assertTrue(e.getMessage().contains("ZONE_DMA") && e.getMessage().contains("IOVA mode"), e.getMessage());
            assertFalse(e.getMessage().contains("below 4 GiB"), e.getMessage());
        }
    }

    @Test
    void a28BitMaskOnAMachineWithNothingFreeLowNamesTheReservesParameters() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(5 * GiB, 64 * MiB).build();
                DmaDevice edu = platform.attach(DeviceProperties.simple("edu"))) {
            DmaMaskUnsupportedException e = assertThrows(DmaMaskUnsupportedException.class,
                    () -> edu.setMaskAndCoherent(DmaMask.bits(28)));
            assertTrue(e.getMessage().contains("cannot obtain memory below a limit on demand")
                    || e.getMessage().contains("0 of 1 frames"), e.getMessage());
            assertTrue(e.getMessage().contains("needs memory below 256 MiB") && e.getMessage().contains("ballastBytes")
                    && e.getMessage().contains("IOVA mode"), e.getMessage());
        }
    }
}
