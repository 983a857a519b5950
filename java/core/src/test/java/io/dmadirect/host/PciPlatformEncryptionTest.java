package io.dmadirect.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.host.LinuxPlatformOptions.Unencrypted;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedMemory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A PCI session's platform in a confidential guest, forced by the options: as on {@code LinuxPlatform.open}, a
 * device cannot be given shared memory by a process, so coherent allocations and bounced mappings are
 * refused with the reason before anything is taken. Both address modes are built the same way.
 */
class PciPlatformEncryptionTest {

    private static SimulatedMemory memory() {
        return new SimulatedMemory(2 * Sizes.MiB, List.<long[]>of(new long[] {Sizes.GiB, 64 * Sizes.MiB}), 2 * Sizes.GiB);
    }

    private static LinuxPlatformOptions options(Unencrypted mode) {
        return PciPlatforms.defaults().withUnencrypted(mode);
    }

    @Test
    void paModeForcedUnencryptedRefusesWithTheReasonAndLeaksNothing() {
        try (DirectPlatform platform = PciPlatforms.over("uio-cc", memory(), options(Unencrypted.FORCE))) {
            assertRefused(platform);
        }
    }

    @Test
    void iovaModeForcedUnencryptedRefusesWithTheReasonAndLeaksNothing() {
        try (DirectPlatform platform = PciPlatforms.iova("type1-cc", memory(), SimulatedIommu.likeIntelIommu(), null,
                options(Unencrypted.FORCE))) {
            assertRefused(platform);
        }
    }

    @Test
    void neverForcedTheSamePlatformAllocates() {
        try (DirectPlatform platform = PciPlatforms.over("uio", memory(), options(Unencrypted.NEVER));
                DmaDevice device = platform.attach(DeviceProperties.simple("plain"))) {
            assertFalse(platform.forcedUnencrypted());
            device.setMaskAndCoherent(DmaMask.BITS_64);
            try (DmaBuffer buffer = device.allocCoherent(4096)) {
                assertEquals(4096, buffer.size());
            }
        }
    }

    @Test
    void byDefaultASessionDetectsWhatThisHostIs() {
        assertEquals(Unencrypted.DETECT, PciPlatforms.defaults().unencrypted());
        try (DirectPlatform platform = PciPlatforms.over("uio", memory(), PciPlatforms.defaults())) {
            assertEquals(ConfidentialComputing.detect().forceUnencrypted(), platform.forcedUnencrypted());
        }
    }

    private static void assertRefused(DirectPlatform platform) {
        try (DmaDevice device = platform.attach(DeviceProperties.simple("cc"))) {
            assertTrue(platform.forcedUnencrypted() && device.forcedUnencrypted());
            device.setMaskAndCoherent(DmaMask.BITS_64);
            platform.drainThreadCaches();
            MemoryStats before = platform.memoryStats();
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096));
            assertTrue(e.getMessage().contains("needs shared (unencrypted) memory")
                    && e.getMessage().contains("set_memory_decrypted"), e.getMessage());
            assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096, DmaAttr.ATOMIC),
                    "the atomic pools are not shared either");
            DmaMappingException m = assertThrows(DmaMappingException.class,
                    () -> device.map(new byte[512], 0, 512, DmaDirection.TO_DEVICE));
            assertTrue(m.getMessage().contains("cannot share memory with devices"), m.getMessage());
            assertEquals(0, platform.leakedBytes(), "refused before allocating: nothing is leaked");
            platform.drainThreadCaches();
            assertEquals(before, platform.memoryStats(), "accounting unchanged");
        }
    }
}
