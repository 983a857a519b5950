package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad environments, each in a child JVM set up the bad way: the child must end with a dmadirect error
 * that names the remedy (exit 3), never a crash (exit 4) or a hang. The parent reserves the hugepages
 * the child would need, so that the bad setting is the only thing wrong.
 */
@SuppressWarnings("try") // a ReservedHugepages resource only holds the pool size for the test's duration
class BadEnvironmentHostTest {
    private static final int SECONDS = 60;

    @BeforeEach
    void host() {
        HostRequirement.requireHugepages();
        HostRequirement.require(new java.io.File("/usr/bin/setpriv").canExecute(), "needs setpriv (util-linux)");
    }

    @Test
    void memlockLimitTooLowNamesTheLimitAndHowToRaiseIt() throws Exception {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 2)) {
            // Root keeps CAP_IPC_LOCK, which lifts the limit: drop it so that the limit applies.
            ChildJvm child = ChildJvm.probe(ChildJvm.classpath(), "ulimit -l 1024",
                    List.of("setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--"), "platform", "2").start();
            assertEquals(PlatformProbe.DMA_ERROR, child.waitFor(SECONDS), child.toString());
            String out = child.output();
            System.out.println("host: " + out.trim());
            assertTrue(out.contains("RLIMIT_MEMLOCK is 1 MiB") && out.contains("4 MiB must be locked"), child.toString());
            assertTrue(out.contains("ulimit -l unlimited") && out.contains("LimitMEMLOCK=infinity"), child.toString());
        }
    }

    @Test
    void notRootPointsToVfioAndIovaMode(@TempDir Path readable) throws Exception {
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 1)) {
            String classpath = ChildJvm.worldReadableClasspath(readable);
            List<String> nobody = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--");

            ChildJvm platform = ChildJvm.probe(classpath, null, nobody, "platform", "1").start();
            assertEquals(PlatformProbe.DMA_ERROR, platform.waitFor(SECONDS), platform.toString());
            System.out.println("host: " + platform.output().trim());
            assertTrue(platform.output().contains("lacks CAP_SYS_ADMIN"), platform.toString());
            assertTrue(platform.output().contains("VFIO") && platform.output().contains("IOVA mode"), platform.toString());

            // PA-mode hugepage memory opened alone makes the same check before touching a page.
            ChildJvm memory = ChildJvm.probe(classpath, null, nobody, "memory", "1").start();
            assertEquals(PlatformProbe.DMA_ERROR, memory.waitFor(SECONDS), memory.toString());
            System.out.println("host: " + memory.output().trim());
            assertTrue(memory.output().contains("failed to open hugepage memory with physical addresses (PA mode): "
                    + "this process lacks CAP_SYS_ADMIN, so /proc/self/pagemap shows PFN 0"), memory.toString());
            assertTrue(memory.output().contains("IOVA mode"), memory.toString());
            assertEquals(pool.available(), HugepageSysfs.DEFAULT.availableHugepages(HugepageSize.SIZE_2M));
        }
    }

    @Test
    void noHugepagesReservedNamesSysfsAndTheCliCommand() throws Exception {
        long available = HugepageSysfs.DEFAULT.availableHugepages(HugepageSize.SIZE_2M);
        ChildJvm child = ChildJvm.probe(ChildJvm.classpath(), null, List.of(), "platform",
                Long.toString(available + 1)).start();
        assertEquals(PlatformProbe.DMA_ERROR, child.waitFor(SECONDS), child.toString());
        System.out.println("host: " + child.output().trim());
        assertTrue(child.output().contains("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), child.toString());
        assertTrue(child.output().contains("dmadirect hugepages --reserve"), child.toString());
    }
}
