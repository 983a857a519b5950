package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A process holding DMA memory that is killed with SIGKILL, which runs no Java code at all, leaves nothing
 * behind: memfd hugepages die with their last reference, and the low-memory reserve's surplus pages go back
 * to the page allocator.
 */
@SuppressWarnings("try") // a ReservedHugepages resource only holds the pool size for the test's duration
class CrashCleanupHostTest {

    @Test
    void sigkillLeavesNoHugepageBehind() throws Exception {
        HostRequirement.requireHugepages();
        try (ReservedHugepages pool = ReservedHugepages.atLeastAvailable(HugepageSize.SIZE_2M, 8)) {
            List<Long> before = hugepageCounters();
            long overcommit = HugepageSysfs.DEFAULT.nrOvercommitHugepages(HugepageSize.SIZE_2M);
            ChildJvm child = ChildJvm.probe(ChildJvm.classpath(), null, List.of(), "hold", "8").start();
            child.awaitLine("READY", 60);
            List<Long> held = hugepageCounters();
            System.out.println("host: child holds; HugePages Total/Free/Rsvd/Surp " + before + " -> " + held
                    + "; " + child.output().trim());
            // At least 8: the low-memory reserve's page comes from the pool instead of the surplus when the
            // pool already had free pages below 4 GiB (a machine where nr_hugepages was raised before).
            assertTrue(held.get(1) <= before.get(1) - 8, "the child holds its 8 pages: " + before + " -> " + held
                    + "\n" + child);

            child.kill();
            assertEquals(before, hugepageCounters(), "after SIGKILL:\n" + child);
            assertEquals(overcommit, HugepageSysfs.DEFAULT.nrOvercommitHugepages(HugepageSize.SIZE_2M));
        }
    }

    /** HugePages_Total, _Free, _Rsvd, _Surp of /proc/meminfo. */
    private static List<Long> hugepageCounters() throws IOException {
        long[] values = new long[4];
        List<String> keys = List.of("HugePages_Total:", "HugePages_Free:", "HugePages_Rsvd:", "HugePages_Surp:");
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            for (int i = 0; i < keys.size(); i++) {
                if (line.startsWith(keys.get(i))) {
                    values[i] = Long.parseLong(line.substring(keys.get(i).length()).trim());
                }
            }
        }
        return List.of(values[0], values[1], values[2], values[3]);
    }
}
