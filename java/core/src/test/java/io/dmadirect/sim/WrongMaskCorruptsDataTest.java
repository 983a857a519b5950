package io.dmadirect.sim;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: a device with 28 address lines, like QEMU's edu.
 * Setup: memory below and above 256 MiB, as in a guest with hugepages on both sides.
 * Action: the device writes into a buffer the policy chose, once with the right mask and once with a
 * driver that claims 32 bits.
 * Seen: with the right mask the bytes land in the buffer; with the wrong one they land 256 MiB lower,
 * in memory that belongs to someone else, and the buffer never sees them.
 */
class WrongMaskCorruptsDataTest {
    private static final byte[] DATA = "written by a 28-bit device".getBytes(StandardCharsets.US_ASCII);

    private static SimulatedPlatform machine() {
        // ZONE_DMA at 0..16 MiB and ZONE_DMA32 only at 256..272 MiB: no DMA32 page is in 28-bit reach, and
        // every DMA32 address aliases, with bit 28 dropped, onto the DMA zone.
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(256 * MiB, 16 * MiB).atomicPools(0, 0).build();
    }

    @Test
    void theRightMaskGivesCorrectData() {
        try (SimulatedPlatform platform = machine()) {
            DmaDevice edu = platform.attach(DeviceProperties.simple("edu"));
            edu.setMaskAndCoherent(DmaMask.bits(28));
            SimulatedBusMaster engine = platform.busMaster(edu, 28);
            for (int i = 0; i < 64; i++) {
                DmaBuffer buffer = edu.allocCoherent(4096);
                assertTrue(buffer.dmaAddress() < (1L << 28));
                assertEquals(io.dmadirect.Zone.DMA, buffer.zone(), "fell back from DMA32 to DMA: " + buffer.report());
                assertEquals(io.dmadirect.Zone.DMA32, buffer.report().optimalZone());
                assertTrue(engine.write(buffer.dmaAddress(), DATA));
                byte[] seen = new byte[DATA.length];
                buffer.cpuView().get(seen);
                assertArrayEquals(DATA, seen);
            }
        }
    }

    @Test
    void aMaskWiderThanTheHardwareCorruptsOtherMemory() {
        try (SimulatedPlatform platform = machine()) {
            DmaDevice neighbour = platform.attach(DeviceProperties.simple("neighbour"));
            neighbour.setMaskAndCoherent(DmaMask.bits(24));
            DmaBuffer victim = neighbour.allocCoherent(16 * MiB);
            DmaDevice edu = platform.attach(DeviceProperties.simple("edu-wrong-driver"));
            edu.setMaskAndCoherent(DmaMask.bits(32));
            SimulatedBusMaster engine = platform.busMaster(edu, 28);
            DmaBuffer buffer = edu.allocCoherent(4096);
            assertTrue(buffer.dmaAddress() >= 256 * MiB, "a 32-bit mask lets the policy pick memory above 256 MiB");
            assertTrue(engine.write(buffer.dmaAddress(), DATA), "the device writes somewhere: no fault is raised");
            byte[] seen = new byte[DATA.length];
            buffer.cpuView().get(seen);
            assertFalse(java.util.Arrays.equals(DATA, seen), "the buffer never sees the data");
            long aliased = buffer.dmaAddress() & ((1L << 28) - 1);
            assertEquals(victim, neighbour.findBuffer(aliased).orElseThrow(), "the write landed in another device's buffer");
            byte[] corrupted = new byte[DATA.length];
            victim.cpuView().get((int) (aliased - victim.dmaAddress()), corrupted);
            assertArrayEquals(DATA, corrupted);
        }
    }
}
