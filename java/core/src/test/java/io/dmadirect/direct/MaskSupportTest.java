package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaMaskUnsupportedException;
import io.dmadirect.DmaRange;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code dma_set_mask()} with {@code dma_direct_supported()}, and {@code dma_get_required_mask()}. */
class MaskSupportTest {

    @Test
    void aMaskBelowAllMemoryHeldIsRefused() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(4 * GiB, 32 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("high-only"));
            DmaMaskUnsupportedException e = assertThrows(DmaMaskUnsupportedException.class,
                    () -> device.setDmaMask(DmaMask.bits(32)));
            assertTrue(e.getMessage().contains("32-bit") && e.getMessage().contains("IOVA"), e.getMessage());
            assertEquals(DmaMask.BITS_32, device.dmaMask(), "the refused mask was not set");
            device.setMaskAndCoherent(DmaMask.bits(33));
            assertEquals(DmaMask.bits(33), device.coherentMask());
        }
    }

    @Test
    void defaultMasksAre32Bits() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("fresh"));
            assertEquals(DmaMask.BITS_32, device.dmaMask());
            assertEquals(DmaMask.BITS_32, device.coherentMask());
        }
    }

    @Test
    void requiredMaskCoversTheWholeMachineNotOnlyTheMemoryHeld() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB)
                .systemMaxPhys(0x2_3fff_ffffL).build()) {
            assertEquals(DmaMask.bits(34), platform.requiredMask());
            DmaDevice device = platform.attach(DeviceProperties.simple("plain"));
            assertEquals(DmaMask.bits(34), device.requiredMask());
            DmaDevice shifted = platform.attach(DeviceProperties.simple("shifted")
                    .withDmaRanges(List.of(new DmaRange(0, 0x10_0000_0000L, 16 * GiB))));
            assertEquals(DmaMask.bits(37), shifted.requiredMask(), "the device sees RAM 64 GiB higher");
        }
    }

    @Test
    void zoneDmaBitsIsConfigurable() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).zoneDmaBits(30).build()) {
            assertEquals(30, platform.zoneDmaBits());
            DmaDevice device = platform.attach(DeviceProperties.simple("zone30"));
            device.setMaskAndCoherent(DmaMask.bits(30));
            var buffer = device.allocCoherent(4096);
            assertEquals(io.dmadirect.Zone.DMA, buffer.zone(), "with zone_dma_bits 30, all of the first GiB is ZONE_DMA");
            assertEquals(io.dmadirect.Zone.DMA, buffer.report().optimalZone());
            buffer.close();
        }
        assertThrows(IllegalArgumentException.class,
                () -> SimulatedPlatform.builder().region(0, 16 * MiB).zoneDmaBits(40).build());
    }
}
