package io.dmadirect.linux.hugepages;

import io.dmadirect.Addresses;
import io.dmadirect.linux.FakeHost;
import io.dmadirect.linux.FakeSyscalls;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Rlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.headers.Capability;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.spi.MemoryRun;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugepage memory in its two modes, through the syscall seam: for an IOMMU (IOVA mode) it reads no
 * pagemap, locks nothing and needs no capability, and checks RLIMIT_MEMLOCK against what the IOMMU will
 * pin; for PA mode it is refused before any call without CAP_SYS_ADMIN.
 */
class IommuHugepagesSeamTest {
    private static final ProcessCapabilities NONE = new ProcessCapabilities(0);
    private static final long FAKE_MAPPING = 0x7f00_0000_0000L; // what FakeSyscalls.mmap returns
    private static final HugepageOptions OPTIONS = HugepageOptions.DEFAULTS.withInitialBytes(8 * Sizes.MiB)
            .withMaxBytes(64 * Sizes.MiB);

    @TempDir
    Path tmp;

    @Test
    void forAnIommuNeitherPagemapNorMlockNorAnyCapabilityIsUsed() {
        FakeSyscalls sys = new FakeSyscalls();
        sys.memlock = new Rlimit(16 * Sizes.MiB, 16 * Sizes.MiB);
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        // FakeSyscalls.mmap hands out an address this process never mapped: a pagemap read of it would fail,
        // so opening at all shows that none is made.
        HugepageMemory memory = HugepageMemory.openForIommu(OPTIONS, sys, host.sysfs(), NONE, host.memoryMap());
        assertEquals(List.of("getrlimit", "memfd_create", "ftruncate", "mmap", "madvise"), sys.calls, "no mlock");
        assertFalse(memory.hasPhysicalAddresses());
        List<MemoryRun> runs = memory.runs();
        assertEquals(1, runs.size(), "one segment is one run by virtual address: " + runs);
        assertEquals(8 * Sizes.MiB, runs.get(0).size());
        assertEquals(FAKE_MAPPING, runs.get(0).cpuAddress());
        DmaUsageException e = assertThrows(DmaUsageException.class, () -> runs.get(0).frameBase());
        assertTrue(e.getMessage().contains("opened for IOVA mode") && e.getMessage().contains("IovaMemory"),
                e.getMessage());
        assertEquals(Addresses.NONE, memory.physAddress(FAKE_MAPPING + 4096), "no physical address known");

        // The IOMMU maps it by virtual address, never asking for a physical one.
        SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
        IovaMemory iova = IovaMemory.map(memory, iommu, ZoneLayout.DEFAULT, sys::directView);
        assertEquals(8 * Sizes.MiB, iova.mappedBytes());
        long first = iova.runs().get(0).frameBase();
        assertEquals(iova.runs().get(0).cpuAddress(), iommu.translate(first, 4096), "the IOVA reaches the CPU address");
        iova.close();
        assertEquals(0, iommu.mappingCount());
        assertTrue(sys.calls.contains("close"), "closing the IOVA memory closed the hugepages' file");
        assertEquals(2, sys.calls.stream().filter("mmap"::equals).count(),
                "the hugepage mapping was replaced by an anonymous one, not unmapped: " + sys.calls);
        assertFalse(sys.calls.contains("munmap"), "no hole is left for a stale view to fault on");
        assertFalse(sys.calls.contains("mlock"));
    }

    @Test
    void growthCountsWhatTheIommuAlreadyPinsAgainstTheLimit() {
        FakeSyscalls sys = new FakeSyscalls();
        sys.memlock = new Rlimit(10 * Sizes.MiB, 10 * Sizes.MiB);
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        try (HugepageMemory memory = HugepageMemory.openForIommu(OPTIONS, sys, host.sysfs(), NONE, host.memoryMap())) {
            assertEquals(2 * Sizes.MiB, memory.grow(2 * Sizes.MiB).stream().mapToLong(MemoryRun::size).sum(),
                    "8 + 2 MiB fit a 10 MiB limit");
            int mmaps = (int) sys.calls.stream().filter("mmap"::equals).count();
            assertEquals(List.of(), memory.grow(2 * Sizes.MiB), "8 + 2 + 2 MiB do not");
            assertEquals(mmaps, sys.calls.stream().filter("mmap"::equals).count(), "refused before mapping");
            assertEquals(10 * Sizes.MiB, memory.heldBytes());
        }
    }

    @Test
    void pastTheMemlockLimitThePinIsRefusedWithTheRemedyBeforeAnyPageIsMapped() {
        FakeSyscalls sys = new FakeSyscalls();
        sys.memlock = new Rlimit(4 * Sizes.MiB, 4 * Sizes.MiB);
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        LinuxException e = assertThrows(LinuxException.class,
                () -> HugepageMemory.openForIommu(OPTIONS, sys, host.sysfs(), NONE, host.memoryMap()));
        assertEquals("failed to pin 8 MiB of DMA memory for the IOMMU: RLIMIT_MEMLOCK is 4 MiB (hard limit 4 MiB) "
                + "but 8 MiB must be pinned: the IOMMU driver (VFIO type1, iommufd) pins the DMA memory it maps and "
                + "counts it against this limit; raise RLIMIT_MEMLOCK with `ulimit -l unlimited` in the shell that "
                + "starts Java, LimitMEMLOCK=infinity in the systemd unit, or a memlock line in "
                + "/etc/security/limits.conf; or grant the process CAP_IPC_LOCK", e.getMessage());
        assertEquals(List.of("getrlimit"), sys.calls);
    }

    @Test
    void capIpcLockLiftsTheLimitAsVfioDoes() {
        FakeSyscalls sys = new FakeSyscalls().failing("getrlimit", io.dmadirect.linux.headers.Errno.EFAULT);
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        ProcessCapabilities ipcLock = new ProcessCapabilities(1L << Capability.CAP_IPC_LOCK);
        try (HugepageMemory memory = HugepageMemory.openForIommu(OPTIONS, sys, host.sysfs(), ipcLock, host.memoryMap())) {
            assertEquals(8 * Sizes.MiB, memory.heldBytes());
            assertFalse(sys.calls.contains("getrlimit"));
        }
    }

    @Test
    void theLowMemoryReserveIsNotTakenForAnIommu() {
        FakeSyscalls sys = new FakeSyscalls();
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        HugepageOptions withReserve = OPTIONS.withLowMemory(new LowMemoryQuota(0, 4 * Sizes.MiB, 16 * Sizes.MiB));
        try (HugepageMemory memory = HugepageMemory.openForIommu(withReserve, sys, host.sysfs(), NONE, host.memoryMap())) {
            assertEquals(1, sys.calls.stream().filter("mmap"::equals).count(), "only the initial segment");
            assertEquals(0, memory.lowMemoryReport().lowBytes());
            assertTrue(memory.lowMemoryReport().note().contains("IOVA mode"), memory.lowMemoryReport().toString());
        }
    }

    @Test
    void paModeWithoutCapSysAdminIsRefusedBeforeAnyCall() {
        FakeSyscalls sys = new FakeSyscalls();
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        LinuxException e = assertThrows(LinuxException.class,
                () -> HugepageMemory.open(OPTIONS, sys, host.sysfs(), NONE, host.memoryMap()));
        assertTrue(e.getMessage().startsWith("failed to open hugepage memory with physical addresses (PA mode): this "
                + "process lacks CAP_SYS_ADMIN"), e.getMessage());
        assertTrue(e.getMessage().contains("VFIO with an IOMMU (IOVA mode)"), e.getMessage());
        assertEquals(List.of(), sys.calls);
    }
}
