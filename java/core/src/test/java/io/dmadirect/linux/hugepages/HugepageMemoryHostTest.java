package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.IndependentPagemap;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ReservedHugepages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.spi.MemoryRun;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Host tests, as root on this Linux host: real 2 MiB hugepages, real pagemap. Each test reserves the
 * pages it needs through sysfs and restores the pool size after.
 */
@SuppressWarnings("try") // a ReservedHugepages resource only holds the pool size for the test's duration
class HugepageMemoryHostTest {
    private static final long PAGE = 2 * Sizes.MiB;
    private static final HugepageOptions OPTIONS = HugepageOptions.DEFAULTS.withName("dmadirect-host-test");

    @BeforeEach
    void host() {
        HostRequirement.requireHugepages();
    }

    @Test
    void everyPageMatchesAnIndependentPagemapReadAndRunsAreContiguous() {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 8)) {
            long freeBefore = meminfo("HugePages_Free");
            HugepageMemory memory = HugepageMemory.open(OPTIONS.withInitialBytes(16 * Sizes.MiB));
            List<MemoryRun> runs = memory.runs();
            assertEquals(freeBefore - 8, meminfo("HugePages_Free"), "8 pages are taken");
            assertEquals(16 * Sizes.MiB, runs.stream().mapToLong(MemoryRun::size).sum());
            for (MemoryRun run : runs) {
                assertEquals(0, run.size() % PAGE);
                assertEquals(0, run.frameBase() % PAGE);
                assertTrue(run.frameBase() + run.size() - 1 <= memory.systemMaxPhysAddress());
                for (long offset = 0; offset < run.size(); offset += PAGE) {
                    // Read in the middle of each page: a run is contiguous only if every page sits where its base says.
                    long middle = offset + PAGE / 2;
                    assertEquals(run.frameBase() + middle, IndependentPagemap.physicalAddress(run.cpuAddress() + middle),
                            run + " page at " + offset);
                }
            }
            assertNoOverlap(runs);
            System.out.println("host: " + runs.size() + " runs " + runs);

            memory.close();
            memory.close();
            assertEquals(freeBefore, meminfo("HugePages_Free"), "close gives every page back");
            assertEquals(List.of(), memory.runs());
            assertThrows(DmaUsageException.class, () -> runs.get(0).cpuView(0, 8));
        }
    }

    @Test
    void writesThroughOneViewReadBackThroughAnother() {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 2);
                HugepageMemory memory = HugepageMemory.open(OPTIONS.withInitialBytes(4 * Sizes.MiB))) {
            for (MemoryRun run : memory.runs()) {
                ByteBuffer head = run.cpuView(0, 4096);
                ByteBuffer tail = run.cpuView(run.size() - 4096, 4096);
                for (int i = 0; i < 4096; i += 8) {
                    head.putLong(i, run.frameBase() + i);
                    tail.putLong(i, ~(run.frameBase() + i));
                }
                ByteBuffer whole = run.cpuView(0, (int) run.size());
                for (int i = 0; i < 4096; i += 8) {
                    assertEquals(run.frameBase() + i, whole.getLong(i));
                    assertEquals(~(run.frameBase() + i), whole.getLong((int) run.size() - 4096 + i));
                }
                assertThrows(IndexOutOfBoundsException.class, () -> run.cpuView(run.size() - 4, 8));
            }
        }
    }

    @Test
    void growAddsRunsUpToTheMaximum() {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 4);
                HugepageMemory memory = HugepageMemory.open(
                        OPTIONS.withInitialBytes(4 * Sizes.MiB).withMaxBytes(8 * Sizes.MiB))) {
            List<MemoryRun> first = memory.runs();
            List<MemoryRun> added = memory.grow(2 * Sizes.MiB);
            assertEquals(2 * Sizes.MiB, added.stream().mapToLong(MemoryRun::size).sum());
            List<MemoryRun> capped = memory.grow(16 * Sizes.MiB);
            assertEquals(2 * Sizes.MiB, capped.stream().mapToLong(MemoryRun::size).sum(), "only up to the maximum");
            assertEquals(List.of(), memory.grow(1), "nothing beyond the maximum");
            assertEquals(8 * Sizes.MiB, memory.runs().stream().mapToLong(MemoryRun::size).sum());
            assertTrue(memory.runs().containsAll(first));
            assertTrue(memory.runs().containsAll(added));
            assertNoOverlap(memory.runs());
            for (MemoryRun run : added) {
                assertEquals(run.frameBase(), IndependentPagemap.physicalAddress(run.cpuAddress()));
            }
        }
    }

    @Test
    void moreThanReservedNamesTheSysfsPoolAndTheCliCommand() {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 2)) {
            long available = pool.available();
            LinuxException e = assertThrows(LinuxException.class,
                    () -> HugepageMemory.open(OPTIONS.withInitialBytes((available + 1) * PAGE)));
            System.out.println("host: " + e.getMessage());
            assertTrue(e.getMessage().contains("Cannot allocate memory (errno 12)"), e.getMessage());
            assertTrue(e.getMessage().contains("needs " + (available + 1) + " hugepages of 2 MiB, " + available + " free"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), e.getMessage());
            assertTrue(e.getMessage().contains("dmadirect hugepages --reserve "), e.getMessage());
            assertEquals(available, pool.available(), "the failed open holds nothing");
        }
    }

    @Test
    void growWithoutFreeHugepagesReturnsNothing() {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 1);
                HugepageMemory memory = HugepageMemory.open(
                        OPTIONS.withInitialBytes(PAGE).withMaxBytes(Sizes.GiB * 64))) {
            assertEquals(List.of(), memory.grow((pool.available() + 1) * PAGE));
        }
    }

    @Test
    void oneGigPagesWithoutReservationSayHowToGetThem() {
        HugepageSysfs sysfs = HugepageSysfs.DEFAULT;
        boolean supported = sysfs.supported(HugepageSize.SIZE_1G);
        // .ci/run empties every pool before the tests, so in CI this always runs.
        HostRequirement.require(!supported || sysfs.availableHugepages(HugepageSize.SIZE_1G) == 0,
                "1 GiB pages are reserved on this host, so their absence cannot be shown");
        LinuxException e = assertThrows(LinuxException.class, () -> HugepageMemory.open(
                OPTIONS.withPageSize(HugepageSize.SIZE_1G).withInitialBytes(Sizes.GiB)));
        System.out.println("host: " + e.getMessage());
        if (supported) {
            assertTrue(e.getMessage().contains("needs 1 hugepage of 1 GiB, 0 free"), e.getMessage());
            assertTrue(e.getMessage().contains("hugepagesz=1G hugepages=N"), e.getMessage());
            assertTrue(e.getMessage().contains("hugepages-1048576kB/nr_hugepages"), e.getMessage());
        } else {
            assertTrue(e.getMessage().contains("1 GiB hugepages are not available on this host"), e.getMessage());
        }
    }

    @Test
    void lowMemoryReserveKeepsOnlyLowPagesAndGivesTheRestBack() {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 9)) {
            long freeBefore = pool.free();
            LowMemoryQuota reserve = new LowMemoryQuota(2 * Sizes.MiB, 4 * Sizes.MiB, 8 * PAGE);
            try (HugepageMemory memory = HugepageMemory.open(OPTIONS.withInitialBytes(PAGE).withLowMemory(reserve))) {
                LowMemoryReport report = memory.lowMemoryReport();
                System.out.println("host: low-memory reserve " + report);
                assertEquals(8 * PAGE, report.bytesSearched());
                assertTrue(report.dmaObtained() <= 2 * Sizes.MiB && report.dma32Obtained() <= 4 * Sizes.MiB);
                long low = report.dmaObtained() + report.dma32Obtained();
                assertEquals(PAGE + low, memory.heldBytes());
                assertEquals(freeBefore - 1 - low / PAGE, pool.free(), "pages not kept went back to the pool");
                long below4g = memory.runs().stream().filter(r -> r.frameBase() + r.size() <= 1L << 32)
                        .mapToLong(MemoryRun::size).sum();
                assertTrue(below4g >= low, "every kept page lies below 4 GiB");
            }
            assertEquals(freeBefore, pool.free());
        }
    }

    @Test
    void hugetlbfsDirectoryInsteadOfMemfd(@TempDir Path mount) throws Exception {
        boolean mounted = run("mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "none", mount.toString());
        HostRequirement.require(mounted, "cannot mount hugetlbfs on " + mount);
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 2);
                HugepageMemory memory = HugepageMemory.open(OPTIONS.withInitialBytes(4 * Sizes.MiB).withHugetlbfs(mount))) {
            try (var files = Files.list(mount)) {
                assertEquals(0, files.count(), "the backing file is unlinked at once");
            }
            for (MemoryRun run : memory.runs()) {
                assertEquals(run.frameBase(), IndependentPagemap.physicalAddress(run.cpuAddress()));
            }
        } finally {
            run("umount", mount.toString());
        }
    }

    private static void assertNoOverlap(List<MemoryRun> runs) {
        List<MemoryRun> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingLong(MemoryRun::frameBase));
        for (int i = 1; i < sorted.size(); i++) {
            assertTrue(sorted.get(i - 1).frameBase() + sorted.get(i - 1).size() <= sorted.get(i).frameBase());
        }
    }

    private static long meminfo(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.substring(key.length() + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new AssertionError("no " + key + " in /proc/meminfo");
    }

    private static boolean run(String... command) throws InterruptedException {
        try {
            return new ProcessBuilder(command).inheritIO().start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
