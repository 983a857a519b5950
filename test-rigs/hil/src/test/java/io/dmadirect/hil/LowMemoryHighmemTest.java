package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaPlatform;
import io.dmadirect.Sizes;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;
import io.dmadirect.host.LinuxPlatform;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.LowMemoryReport;
import io.dmadirect.linux.hugepages.LowMemoryQuota;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: low memory where the hugepages lie high (issue 14).
 * Guest: 6 GiB (q35 puts 2 GiB below 4 GiB), 600 hugepages reserved after boot, all above 4 GiB; no IOMMU.
 * Setup: (1) a platform with a low-memory reserve of 32 MiB below 4 GiB, its ballast capped at ZONE_NORMAL's
 * free memory + 512 MiB, while the pool still has free hugepages; (2) the edu (28 bits) in PA mode on a
 * session with the default options, no reserve at all.
 * Seen: (1) the reserve obtains all 32 MiB (before the fix the pool's free pages used up the cap: 0 B);
 * (2) setting the 28-bit mask obtains memory below 256 MiB on demand, and a round trip through the device
 * MATCHes. The report, the addresses, the zone, the time and the memory it cost go to evidence.txt.
 */
@Tag("highmem")
class LowMemoryHighmemTest {
    private static final long RESERVE = 32 * Sizes.MiB;

    @Test
    void theBallastObtainsTheReserveWhileThePoolHasFreeHugepages() throws IOException {
        Rig.requireRig();
        Rig.releaseEdu();
        long poolFree = HugepageSysfs.DEFAULT.availableHugepages(HugepageSize.SIZE_2M);
        long normalFree = normalZoneFreeBytes();
        assertTrue(poolFree > 0, "the guest's pool must have free hugepages for this test: " + poolFree);
        LowMemoryQuota reserve = new LowMemoryQuota(0, RESERVE, 0, normalFree + 512 * Sizes.MiB);
        try (LinuxPlatform platform = LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(16 * Sizes.MiB).withName("hil-lowmem"))
                .withLowMemory(reserve))) {
            LowMemoryReport report = platform.lowMemoryReport();
            Rig.note("lowmem: pool had " + poolFree + " free hugepages, ZONE_NORMAL " + Sizes.format(normalFree)
                    + " free; reserve with ballast cap " + Sizes.format(reserve.ballastBytes()) + ": " + report);
            assertEquals(RESERVE, report.dma32Obtained(), report.toString());
        }
    }

    @Test
    void a28BitEduInPaModeGetsMemoryOnDemandAndItsRoundTripMatches() {
        Rig.requireRig();
        Rig.releaseEdu();
        PciAddress bdf = PciAddress.parse(System.getenv("DMADIRECT_RIG_EDU_BDF"));
        // The layout this test needs: no free hugepage of the pool below 4 GiB. A ballast (the other test, or
        // an earlier session's low memory on demand) leaves low pages in the pool when it gives its surplus
        // pages back, so a platform first holds every low page the pool has free, for the duration.
        long poolBytes = HugepageSysfs.DEFAULT.availableHugepages(HugepageSize.SIZE_2M) * 2 * Sizes.MiB;
        try (LinuxPlatform hog = LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(0).withName("hil-lowmem-hog"))
                .withLowMemory(new LowMemoryQuota(0, 4 * Sizes.GiB, poolBytes, 0)))) {
            Rig.note("ondemand: a platform holds the pool's " + Sizes.format(hog.lowMemoryReport().lowBytes())
                    + " of free hugepages below 4 GiB while the edu session opens: " + hog.lowMemoryReport());
            roundTripWithMemoryOnDemand(bdf);
        }
    }

    private static void roundTripWithMemoryOnDemand(PciAddress bdf) {
        long start = System.nanoTime();
        try (PciSession session = PciSession.open(bdf, HugepageOptions.DEFAULTS.withName("hil-ondemand"))) {
            assertEquals(AddressMode.PA, session.mode());
            long opened = System.nanoTime();
            String roundTrip = EduRoundTrip.run(session);
            long done = System.nanoTime();
            List<LowMemoryReport> onDemand = session.lowMemoryOnDemand();
            Rig.note("ondemand: edu " + bdf + " on " + session.pci().driver() + ", reserve at open: "
                    + session.lowMemoryReport());
            for (LowMemoryReport report : onDemand) {
                Rig.note("ondemand: " + report);
            }
            Rig.note("ondemand: " + roundTrip + "; memory " + session.platform().memoryStats()
                    + "; open " + (opened - start) / 1_000_000 + " ms, mask + on demand + round trip "
                    + (done - opened) / 1_000_000 + " ms");
            assertFalse(onDemand.isEmpty(), "the 28-bit mask needed low memory on demand");
            assertTrue(onDemand.get(0).lowBytes() > 0, onDemand.get(0).toString());
            assertTrue(roundTrip.contains("MATCH"), roundTrip);
        }
    }

    /** ZONE_NORMAL's free memory from /proc/zoneinfo. */
    private static long normalZoneFreeBytes() throws IOException {
        long pages = 0;
        boolean normal = false;
        for (String raw : Files.readAllLines(Path.of("/proc/zoneinfo"))) {
            String line = raw.trim();
            if (line.startsWith("Node ")) {
                normal = line.endsWith("Normal");
            } else if (normal && line.startsWith("pages free")) {
                pages += Long.parseLong(line.substring("pages free".length()).trim());
            }
        }
        return pages * 4096;
    }
}
