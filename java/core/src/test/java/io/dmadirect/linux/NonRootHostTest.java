package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user without root gets, each in a child JVM run as nobody with no capabilities: hugepage memory
 * for IOVA mode opens within the memlock limit and is usable though pagemap hides every frame number; past
 * the limit it is refused with the remedy; a PCI session in PA mode is refused first, naming
 * CAP_SYS_ADMIN, and takes no hugepage. The parent reserves the pages the child would need.
 *
 * <p>The IOMMU's own pinning of that memory (VFIO_IOMMU_MAP_DMA as a non-root user) needs a device
 * behind an IOMMU: the rig's iommu-vfio variant runs it ({@code EduNonRootTest}).
 */
@SuppressWarnings("try") // a ReservedHugepages resource only holds the pool size for the test's duration
class NonRootHostTest {
    private static final int SECONDS = 60;
    private static final List<String> NOBODY = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--");

    @TempDir
    Path readable;
    private String classpath;

    @BeforeEach
    void host() throws IOException {
        HostRequirement.requireHugepages();
        HostRequirement.require(new java.io.File("/usr/bin/setpriv").canExecute(), "needs setpriv (util-linux)");
        readable.toFile().setReadable(true, false);
        readable.toFile().setExecutable(true, false);
        classpath = ChildJvm.worldReadableClasspath(readable.resolve("cp"));
    }

    @Test
    void iovaMemoryOpensAsNobodyWithinTheMemlockLimitAndIsUsable() throws Exception {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 4)) {
            long before = pool.available();
            // 8 MiB of limit for 8 MiB of memory: exactly what VFIO would pin when it maps the memory.
            ChildJvm child = ChildJvm.probe(classpath, "ulimit -l 8192", NOBODY, "iova-memory", "4").start();
            assertEquals(PlatformProbe.OK, child.waitFor(SECONDS), child.toString());
            String out = child.output();
            System.out.println("host: " + out.trim());
            assertTrue(out.contains("OK iova-memory held 8 MiB, HugetlbPages: 8192 kB"), child.toString());
            assertTrue(out.contains("VmLck: 0 kB"), "nothing counts against the limit before the IOMMU pins it: " + child);
            assertTrue(out.contains("pattern MATCH") && out.contains("frameBase refused"), child.toString());
            assertTrue(out.contains("pagemap PFN hidden"), "pagemap hides frames from this user: " + child);
            assertTrue(out.contains("uid Uid: 65534 "), "ran as nobody: " + child);
            assertEquals(before, pool.available(), "closing gave every page back");
        }
    }

    @Test
    void iovaMemoryPastTheMemlockLimitIsRefusedWithTheRemedyAndTakesNoPage() throws Exception {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 4)) {
            long before = pool.available();
            ChildJvm child = ChildJvm.probe(classpath, "ulimit -l 4096", NOBODY, "iova-memory", "4").start();
            assertEquals(PlatformProbe.DMA_ERROR, child.waitFor(SECONDS), child.toString());
            String out = child.output();
            System.out.println("host: " + out.trim());
            assertTrue(out.contains("failed to pin 8 MiB of DMA memory for the IOMMU: RLIMIT_MEMLOCK is 4 MiB "
                    + "(hard limit 4 MiB) but 8 MiB must be pinned"), child.toString());
            assertTrue(out.contains("ulimit -l unlimited") && out.contains("limits.conf"), child.toString());
            assertEquals(before, pool.available());
        }
    }

    @Test
    void aPaModePciSessionAsNobodyFailsFirstAndLeavesTheHugepagesAlone() throws Exception {
        // A sysfs tree in which 0000:00:04.0 is bound to uio_pci_generic, readable by nobody.
        Path sysfs = readable.resolve("sys");
        Path driver = Files.createDirectories(sysfs.resolve("bus/pci/drivers/uio_pci_generic"));
        Path device = Files.createDirectories(sysfs.resolve("bus/pci/devices/0000:00:04.0"));
        Files.createSymbolicLink(device.resolve("driver"), driver);
        for (Path p : List.of(readable, sysfs, sysfs.resolve("bus"), sysfs.resolve("bus/pci"),
                sysfs.resolve("bus/pci/drivers"), driver, sysfs.resolve("bus/pci/devices"), device)) {
            p.toFile().setReadable(true, false);
            p.toFile().setExecutable(true, false);
        }
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 2)) {
            HugepageSysfs counters = HugepageSysfs.DEFAULT;
            long[] before = {counters.nrHugepages(HugepageSize.SIZE_2M), counters.freeHugepages(HugepageSize.SIZE_2M),
                    counters.availableHugepages(HugepageSize.SIZE_2M)};
            ChildJvm child = ChildJvm.probe(classpath, null, NOBODY, "pa-session", sysfs.toString(), "0000:00:04.0",
                    "2").start();
            assertEquals(PlatformProbe.DMA_ERROR, child.waitFor(SECONDS), child.toString());
            String out = child.output();
            System.out.println("host: " + out.trim());
            assertTrue(out.contains("failed to open 0000:00:04.0 on uio_pci_generic (PA mode): this process lacks "
                    + "CAP_SYS_ADMIN"), child.toString());
            assertTrue(out.contains("run as root") && out.contains("IOVA mode"), child.toString());
            long[] after = {counters.nrHugepages(HugepageSize.SIZE_2M), counters.freeHugepages(HugepageSize.SIZE_2M),
                    counters.availableHugepages(HugepageSize.SIZE_2M)};
            assertEquals(List.of(before[0], before[1], before[2]), List.of(after[0], after[1], after[2]),
                    "HugePages total, free and available (free less reserved) unchanged");
        }
    }
}
