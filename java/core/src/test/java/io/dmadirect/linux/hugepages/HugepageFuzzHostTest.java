package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.ChildJvm;
import io.dmadirect.linux.HugepagePool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.fuzz.HugepageFuzzChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fuzz suite ({@code io.dmadirect.fuzz}) on real hugepages, each run in a child JVM so that a crash is
 * a failed test (its exit code and output shown) rather than a lost build. {@code dmadirect.fuzz.seconds}
 * sets each run's budget (8 s by default); run it under {@code flock /tmp/dmadirect-host.lock}.
 */
class HugepageFuzzHostTest {
    @RegisterExtension
    static final HugepagePool POOL = HugepagePool.ofAtLeast(12);

    private static String seconds() {
        return System.getProperty("dmadirect.fuzz.seconds", "8");
    }

    private static void run(String mode) throws Exception {
        ChildJvm child = ChildJvm.main(HugepageFuzzChild.class, mode, seconds()).start();
        int budget = (int) Double.parseDouble(seconds()) * 3 + 120;
        assertEquals(0, child.waitFor(budget), child::toString);
        String volume = child.output().lines().filter(l -> l.startsWith("fuzz ")).findFirst().orElse("");
        assertTrue(volume.contains("0 failures"), child::toString);
        System.out.println(volume);
    }

    @Test
    void randomSequencesOnRealHugepagesKeepEveryInvariant() throws Exception {
        run("sequences");
    }

    @Test
    void closeRacesOnRealHugepagesNeverCrashAndLeaveNothing() throws Exception {
        run("races");
    }
}
