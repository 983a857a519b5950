package io.dmadirect.host;

import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.IndependentPagemap;
import io.dmadirect.linux.ReservedHugepages;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.LowMemoryReport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.linux.jna.LinuxSyscalls;
import org.junit.jupiter.api.Test;

/**
 * Low memory on demand on this host's real hugepages: a platform without a low-memory reserve, a 32-bit
 * driver, and a 2 MiB coherent buffer that must lie below 4 GiB where pagemap says, whatever the layout of
 * the pages the platform opened with. When the platform held none low, the memory came on demand (the
 * reserve's search and ballast), and the report says what it cost.
 */
class LowMemoryOnDemandHostTest {
    private static final long PAGE = 2 * Sizes.MiB;

    @Test
    void a32BitDriverGetsA2MiBBufferBelow4GiBWithoutAReserve() {
        HostRequirement.requireHugepages();
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 16);
                LinuxPlatform platform = LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                        .withHugepages(HugepageOptions.DEFAULTS.withName("dmadirect-ondemand-test")
                                .withInitialBytes(16 * PAGE))
                        .withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER));
                DmaDevice device = platform.attach(DeviceProperties.simple("mask32"))) {
            long lowAtOpen = platform.memoryStats().zone(Zone.DMA32).total() + platform.memoryStats().zone(Zone.DMA).total();
            long start = System.nanoTime();
            device.setMaskAndCoherent(DmaMask.BITS_32);
            try (DmaBuffer buffer = device.allocCoherent(PAGE)) {
                long took = System.nanoTime() - start;
                assertTrue(buffer.dmaAddress() + PAGE - 1 <= 0xffff_ffffL, buffer.toString());
                long cpu = LinuxSyscalls.instance().addressOf(buffer.cpuView());
                assertEquals(buffer.dmaAddress(), IndependentPagemap.physicalAddress(cpu), buffer.toString());
                assertEquals(buffer.dmaAddress() + PAGE - 1, IndependentPagemap.physicalAddress(cpu + PAGE - 1));
                System.out.println("host: low memory held at open " + Sizes.format(lowAtOpen) + "; on demand "
                        + Sizes.format(platform.memory().onDemandReports().stream().mapToLong(LowMemoryReport::lowBytes).sum())
                        + " in " + platform.memory().onDemandReports() + "; mask + buffer took " + took / 1_000_000
                        + " ms; buffer " + buffer);
                if (lowAtOpen == 0) {
                    assertTrue(!platform.memory().onDemandReports().isEmpty(), "nothing was held low, so it came on demand");
                }
            }
        }
    }
}
