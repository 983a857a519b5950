package io.dmadirect.host;

import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.ReservedHugepages;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.Sizes;
import io.dmadirect.host.LinuxPlatformOptions.Unencrypted;
import org.junit.jupiter.api.Test;

/**
 * A confidential guest, as the options can force it on this host: DMA is forced unencrypted, a process
 * cannot make hugepages shared, so coherent allocations fail and say why, instead of handing a device
 * memory it cannot reach.
 */
@SuppressWarnings("try") // a ReservedHugepages resource only holds the pool size for the test's duration
class ConfidentialGuestHostTest {

    @Test
    void allocationsForForcedUnencryptedDevicesFailWithTheReason() {
        HostRequirement.requireHugepages();
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 2);
                DmaPlatform platform = LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS.withUnencrypted(Unencrypted.FORCE)
                        .withHugepages(HugepageOptions.DEFAULTS.withName("dmadirect-cc-test").withInitialBytes(4 * Sizes.MiB)));
                DmaDevice device = platform.attach(DeviceProperties.simple("cc"))) {
            assertTrue(platform.forcedUnencrypted() && device.forcedUnencrypted());
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096));
            System.out.println("host: " + e.getMessage());
            assertTrue(e.getMessage().contains("set_memory_decrypted"), e.getMessage());
            var before = platform.memoryStats();
            assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096, io.dmadirect.DmaAttr.ATOMIC),
                    "the atomic path is refused too: pool memory could not be shared either");
            assertTrue(((io.dmadirect.host.LinuxPlatform) platform).direct().leakedBytes() == 0,
                    "refused before allocating: nothing is leaked");
            assertTrue(before.equals(platform.memoryStats()), "accounting unchanged");
        }
    }
}
