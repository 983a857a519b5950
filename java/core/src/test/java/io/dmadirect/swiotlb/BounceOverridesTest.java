package io.dmadirect.swiotlb;

import io.dmadirect.spi.SwiotlbConfig;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The process-wide {@code swiotlb=force} and pool size that the agent's injection sets. */
class BounceOverridesTest {
    @AfterEach
    void reset() {
        BounceOverrides.reset();
    }

    @Test
    void forcedMakesEvenReachableDmaMemoryBounceAndResetUndoesIt() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nic"));
            device.setMaskAndCoherent(DmaMask.bits(32));
            try (DmaBuffer ring = device.allocCoherent(4096)) {
                assertFalse(mapped(device, ring), "reachable DMA memory maps directly");
                BounceOverrides.setForced(true);
                assertTrue(mapped(device, ring), "swiotlb=force for the process: every mapping bounces");
                BounceOverrides.reset();
                assertFalse(mapped(device, ring));
            }
        }
    }

    @Test
    void poolBytesReplacesTheSizeOfAPoolButMakesNoneWhereThereWasNone() {
        assertEquals(SwiotlbConfig.defaults(), BounceOverrides.apply(SwiotlbConfig.defaults()), "unset: unchanged");
        BounceOverrides.setPoolBytes(256 * KiB);
        assertEquals(256 * KiB, BounceOverrides.apply(SwiotlbConfig.defaults()).bytes());
        assertEquals(0, BounceOverrides.apply(SwiotlbConfig.none()).bytes());
        assertThrows(IllegalArgumentException.class, () -> BounceOverrides.setPoolBytes(-1));
    }

    private static boolean mapped(DmaDevice device, DmaBuffer buffer) {
        try (DmaMapping mapping = device.map(buffer.cpuView(), DmaDirection.TO_DEVICE)) {
            return mapping.isBounced();
        }
    }
}
