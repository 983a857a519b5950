package io.dmadirect.host;

import io.dmadirect.Addresses;
import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.IndependentPagemap;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ReservedHugepages;
import io.dmadirect.linux.hugepages.HugepageMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;
import io.dmadirect.linux.hugepages.LowMemoryReport;
import io.dmadirect.linux.hugepages.LowMemoryQuota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.spi.ZoneLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Host tests of {@code LinuxPlatform.open}, as root on this host: coherent buffers on real hugepages
 * sit where their DMA address says, by an independent pagemap read of the CPU view's address.
 *
 * <p>One platform for the class: 32 MiB of hugepages and a low-memory reserve of 8 MiB below 4 GiB,
 * taken with a ballast (bounded to 20 GiB, and by the reserve's 1 GiB floor for the host).
 */
class LinuxPlatformHostTest {
    private static final long PAGE = 2 * Sizes.MiB;
    private static final long LOW = 8 * Sizes.MiB;
    private static final ZoneLayout ZONES = ZoneLayout.DEFAULT;

    private static ReservedHugepages pool;
    private static LinuxPlatform platform;

    @BeforeAll
    static void open() {
        HostRequirement.requireHugepages();
        pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 16);
        LinuxPlatformOptions options = LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withName("dmadirect-platform-test").withInitialBytes(16 * PAGE))
                .withLowMemory(new LowMemoryQuota(0, LOW, 0, 20 * Sizes.GiB))
                .withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER);
        platform = LinuxPlatform.open(options);
        System.out.println("host: " + platform + "; low-memory reserve: " + platform.lowMemoryReport());
    }

    @AfterAll
    static void close() {
        if (platform != null) {
            platform.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void lowMemoryReserveObtainsMemoryBelow4GiB() {
        LowMemoryReport report = platform.lowMemoryReport();
        assertEquals(LOW, report.dma32Obtained(), report.toString());
        assertTrue(report.nanos() < 60_000_000_000L, "bounded in time: " + report);
        assertTrue(platform.memoryStats().zone(Zone.DMA32).total() >= LOW, platform.memoryStats().toString());
    }

    @Test
    void with32BitMaskBuffersLieBelow4GiBWhereTheDmaAddressSays() {
        try (DmaDevice device = platform.attach(DeviceProperties.simple("mask32"))) {
            device.setMaskAndCoherent(DmaMask.BITS_32);
            for (long size : new long[] {64, 4096, 64 * Sizes.KiB, PAGE}) {
                try (DmaBuffer buffer = device.allocCoherent(size)) {
                    assertTrue(buffer.dmaAddress() + size - 1 <= 0xffff_ffffL, buffer.toString());
                    assertWhereItSays(buffer);
                }
            }
        }
    }

    @Test
    void with64BitMaskBuffersAreWhereTheDmaAddressSays() {
        try (DmaDevice device = platform.attach(DeviceProperties.simple("mask64"))) {
            device.setMaskAndCoherent(DmaMask.BITS_64);
            for (long size : new long[] {64, 4096, 64 * Sizes.KiB, Sizes.MiB, PAGE}) {
                try (DmaBuffer buffer = device.allocCoherent(size)) {
                    assertWhereItSays(buffer);
                }
            }
        }
    }

    private static final int PAGES_FOR_CONTIGUITY = 512;

    /**
     * A buffer of several hugepages is served from a run of physically adjacent ones (the CMA analogue). On a
     * platform of its own, without pools that could take frames of the run, the longest run the host handed
     * out must be served whole; a host that handed out no two adjacent hugepages cannot show it and says so
     * through {@link HostRequirement} (a failure under {@code DMADIRECT_REQUIRE_HOST=1}).
     */
    @Test
    void aBufferOfSeveralHugepagesIsServedFromAPhysicallyContiguousRun() {
        // A host that has run for a while (builds, guests) hands out scattered hugepages first: on this
        // project's build machine, after a few hours, 64 freshly reserved pages held no adjacent pair even after
        // compaction, while 512 held 232 (the first ones come from the scattered free blocks, the rest from
        // large ones). So compact, then take 1 GiB: adjacent pages wherever the memory can have them at all.
        ReservedHugepages.compactMemory();
        try (ReservedHugepages more = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, PAGES_FOR_CONTIGUITY);
                LinuxPlatform own = LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                        .withHugepages(HugepageOptions.DEFAULTS.withName("dmadirect-contiguity-test")
                                .withInitialBytes(PAGES_FOR_CONTIGUITY * PAGE))
                        .withAtomicPools(0, 0).withBouncePool(io.dmadirect.spi.SwiotlbConfig.none())
                        .withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER))) {
            long longest = own.memory().runs().stream().mapToLong(io.dmadirect.spi.MemoryRun::size).max().orElse(0);
            System.out.println("host: the longest physically contiguous run of " + PAGES_FOR_CONTIGUITY
                    + " hugepages is " + Sizes.format(longest));
            HostRequirement.require(longest >= 2 * PAGE, "the host handed out no two physically adjacent hugepages "
                    + "among " + PAGES_FOR_CONTIGUITY + " after compaction, so a multi-hugepage buffer cannot be "
                    + "served here (memory too fragmented?)");
            try (DmaDevice device = own.attach(DeviceProperties.simple("big"))) {
                device.setMaskAndCoherent(DmaMask.BITS_64);
                try (DmaBuffer buffer = device.allocCoherent(longest)) {
                    long cpu = LinuxSyscalls.instance().addressOf(buffer.cpuView());
                    for (long offset = 0; offset < longest; offset += 4096) {
                        assertEquals(buffer.dmaAddress() + offset, IndependentPagemap.physicalAddress(cpu + offset),
                                "offset " + offset + " of " + buffer);
                    }
                    System.out.println("host: contiguous " + Sizes.format(longest) + " at " + Sizes.hex(buffer.dmaAddress()));
                }
            }
        }
    }

    @Test
    void fastTranslationAgreesWithPagemapAndKnowsWhatIsNotOurs() {
        for (var run : platform.memory().runs()) {
            for (long offset = 0; offset < run.size(); offset += PAGE / 4) {
                long cpu = run.cpuAddress() + offset + 123;
                assertEquals(IndependentPagemap.physicalAddress(cpu), platform.dmaAddress(cpu));
            }
            assertEquals(Addresses.NONE, platform.dmaAddress(run.cpuAddress() - 1 - 8 * Sizes.GiB));
        }
        assertEquals(Addresses.NONE, platform.dmaAddress(0));
    }

    @Test
    void requiredMaskCoversTheHighestRamAddressOfProcIomem() throws IOException {
        long highest = 0;
        for (String line : Files.readAllLines(Path.of("/proc/iomem"))) {
            if (line.endsWith(": System RAM") && !line.startsWith(" ")) {
                highest = Math.max(highest, Long.parseUnsignedLong(line.split(" ")[0].split("-")[1], 16));
            }
        }
        int bits = 64 - Long.numberOfLeadingZeros(highest);
        System.out.println("host: highest RAM " + Sizes.hex(highest) + ", required mask " + platform.requiredMask());
        assertEquals(DmaMask.bits(bits), platform.requiredMask());
        assertEquals(false, platform.forcedUnencrypted());
    }

    /** The DMA address is the physical address of the CPU view, the zone is that of the address. */
    private static void assertWhereItSays(DmaBuffer buffer) {
        long cpu = LinuxSyscalls.instance().addressOf(buffer.cpuView());
        assertEquals(buffer.dmaAddress(), IndependentPagemap.physicalAddress(cpu), buffer.toString());
        long last = buffer.dmaAddress() + buffer.size() - 1;
        assertEquals(last, IndependentPagemap.physicalAddress(cpu + buffer.size() - 1), "last byte of " + buffer);
        assertEquals(ZONES.zoneOf(last), buffer.zone(), buffer.toString());
        assertEquals(buffer.dmaAddress(), platform.dmaAddress(cpu), "the fast translation");
    }

    @Test
    void aSecondPlatformWithoutHugepagesLeftSaysHowToReserveThem() {
        long available = HugepageSysfs.DEFAULT.availableHugepages(HugepageSize.SIZE_2M);
        LinuxException e = assertThrows(LinuxException.class, () -> LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes((available + 1) * PAGE))));
        System.out.println("host: " + e.getMessage());
        assertTrue(e.getMessage().contains("nr_hugepages") && e.getMessage().contains("dmadirect hugepages --reserve"),
                e.getMessage());
    }
}
