package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.example.driver.PlantedBugs;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Dynamic attach on a running driver JVM started without the agent: the first attach installs it and
 * dumps an empty map; after the driver allocates, a second attach dumps those allocations with their
 * call sites.
 */
class AttachIT {

    @Test
    void attachToARunningDriverAndDumpTheLiveMap() throws Exception {
        List<String> command = new ArrayList<>(List.of(ChildJvm.JAVA, "-Xmx256m", "-XX:+IgnoreUnrecognizedVMOptions",
                "-XX:+EnableDynamicAgentLoading", "-cp", ChildJvm.driverClasspath(), PlantedBugs.class.getName(),
                "attach-target"));
        Process driver = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8));
                Writer in = new java.io.OutputStreamWriter(driver.getOutputStream(), StandardCharsets.UTF_8)) {
            String ready = await(out, log, "attach-target: ready ");
            String pid = ready.substring(ready.lastIndexOf(' ') + 1);

            ChildJvm.Result first = attach(pid, "packages=com.example.driver");
            first.assertExit(0).assertContains("live DMA map, 0 entries (mode=trace+debug)");

            in.write("alloc\n");
            in.flush();
            await(out, log, "attach-target: allocated 2");

            ChildJvm.Result second = attach(pid, "");
            second.assertExit(0).assertContains("live DMA map, 2 entries", "nic0 coherent", "size=4096", "size=65536",
                    "site=com.example.driver.PlantedBugs.allocateSome(PlantedBugs.java:");

            // A driver class loaded for the first time after the attach is rewritten too.
            in.write("alloc-fresh\n");
            in.flush();
            await(out, log, "attach-target: allocated 7");
            ChildJvm.Result third = attach(pid, "");
            third.assertExit(0).assertContains("live DMA map, 7 entries", "size=12288",
                    "site=com.example.driver.LinkedByTheAttach$QueuePart.<init>(LinkedByTheAttach.java:", "size=16384",
                    "site=com.example.driver.LoadedAfterAttach.allocate(LoadedAfterAttach.java:", "size=32768",
                    "site=com.example.driver.LoadedBeforeAttach.allocate(LoadedBeforeAttach.java:",
                    // NvmeQueuePair's shape: first loaded while the attach retransformed ControllerShape
                    "size=20480", "site=com.example.driver.QueueShape.<init>(QueueShape.java:", "size=24576");
            third.assertLacks("caller not rewritten");

            in.write("exit\n");
            in.flush();
            await(out, log, "attach-target: done");
            String rest = new String(driver.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            log.append(rest);
            assertTrue(driver.waitFor(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS), "driver did not exit:\n" + log);
            assertTrue(log.toString().contains("debug: 0 errors: clean"), "the attached agent's report at exit:\n" + log);
            // 2 allocated and freed since the attach; the free of the 8 KiB buffer from before is not subtracted.
            assertTrue(log.toString().contains(", live 0 B allocated since the attach,"),
                    "live bytes after an attach:\n" + log);
        } finally {
            driver.destroyForcibly();
        }
    }

    private static ChildJvm.Result attach(String pid, String options) throws Exception {
        List<String> command = new ArrayList<>(List.of(ChildJvm.JAVA, "-jar", ChildJvm.agentJar(), pid));
        if (!options.isEmpty()) {
            command.add(options);
        }
        return ChildJvm.exec(command, null);
    }

    private static String await(BufferedReader out, StringBuilder log, String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ChildJvm.TIMEOUT_SECONDS);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            log.append(line).append('\n');
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        fail("the driver never printed '" + prefix + "'; its output:\n" + log);
        return null;
    }
}
