package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 15's crashes on real hugepages, each in a child JVM so that a SIGSEGV is a failed test rather
 * than a lost build: closing a platform while threads allocate (finding 1), and syncing or closing a
 * direct mapping of a non-coherent device after its platform closed (finding 2).
 */
class CloseRaceHostTest {
    @RegisterExtension
    static final HugepagePool POOL = HugepagePool.ofAtLeast(12);

    @Test
    void closingThePlatformWhileThreadsAllocateNeverCrashes() throws Exception {
        ChildJvm child = ChildJvm.main(CloseRaceProbe.class, "alloc-race", "10").start();
        assertEquals(PlatformProbe.OK, child.waitFor(120), child::toString);
        assertTrue(child.output().contains("stale views read zeros"), child::toString);
        System.out.println("close race: " + child.output().lines().filter(l -> l.startsWith("OK")).findFirst().orElse(""));
    }

    @Test
    void syncAndCloseOfADirectMappingAfterPlatformCloseAreRefusedOrQuiet() throws Exception {
        ChildJvm child = ChildJvm.main(CloseRaceProbe.class, "sync-after-close").start();
        assertEquals(PlatformProbe.OK, child.waitFor(60), child::toString);
        assertTrue(child.output().contains("OK sync refused, close quiet, unmapped true"), child::toString);
    }
}
