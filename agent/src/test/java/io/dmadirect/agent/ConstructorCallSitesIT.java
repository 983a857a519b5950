package io.dmadirect.agent;

import com.example.driver.RingInConstructor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DMA API calls in a driver's constructors are call sites too: the NVMe driver allocates its queues in
 * {@code NvmeQueueRing}'s constructor and its PRP lists in {@code NvmeQueuePair}'s, and the rig showed those sites as "caller not rewritten" until the
 * agent rewrote constructors as well as methods.
 */
class ConstructorCallSitesIT {

    @Test
    void aLeakFromAConstructorNamesTheConstructorsLine() throws Exception {
        ChildJvm.exec(List.of(ChildJvm.JAVA, "-Xmx256m", "-javaagent:" + ChildJvm.agentJar() + "=mode=debug",
                "-cp", ChildJvm.driverClasspath(), RingInConstructor.class.getName()), null)
                .assertExit(0)
                .assertContains("DMA-API [leak-at-close]", "call site: com.example.driver.RingInConstructor$Ring.<init>("
                        + "RingInConstructor.java:" + bugLine() + ") -> DmaDevice.allocCoherent", "ring-in-constructor: done")
                .assertLacks("caller not rewritten");
    }

    private static int bugLine() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("src/test/java/com/example/driver/RingInConstructor.java"));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("allocCoherent") && lines.get(i).contains("// BUG")) {
                return i + 1;
            }
        }
        throw new AssertionError("no // BUG line in RingInConstructor.java");
    }
}
