package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook, issue 22 [nic]: the e1000e driver under the javaagent, in a child JVM ({@link NicAgentMain}) that
 * has the NICs to itself.
 * Debug mode ({@code mode=debug}): pool frames in batches of 32 and mapped frames; the agent's report at exit has
 * zero findings. Inject mode ({@code mode=trace+debug+inject, failRate=0.1, failOps=alloc+map}): attach retried
 * until it gets through, then 200 frames from heap memory through streaming mappings.
 * Seen: every injected failure is the agent's own, at attach an exception, in the send path a dropped frame that
 * the driver counts (injected = attach exceptions + mapping failures counted); no leak (report errors 0); every
 * frame that was sent arrived byte-identical; the pool ends as full as it began.
 */
@Tag("nic")
class NicAgentTest {
    private static final long SEED = 22;

    @Test
    void aDebugModeRunHasZeroFindings() throws Exception {
        Path report = AgentRig.results().resolve("agent-nic-debug");
        String options = "mode=debug,packages=io.dmadirect.drivers:io.dmadirect.hil,failOnError=true,report=" + report;
        long t0 = System.nanoTime();
        RigProcess.Result child = AgentRig.childWithAgent("agent-nic-debug", options, NicAgentMain.class, List.of("debug"), 300);
        child.assertExit(0);
        String text = Files.readString(Path.of(report + ".txt"), StandardCharsets.UTF_8);
        String json = Files.readString(Path.of(report + ".json"), StandardCharsets.UTF_8);
        assertEquals(0, AgentReport.number(json, "errors"), text);
        assertTrue(text.contains("debug: 0 errors: clean"), text);
        String done = child.line("nic agent: done: ");
        Rig.note("agent debug nic: " + done.substring("nic agent: ".length()) + "; report: "
                + text.lines().filter(l -> l.startsWith("debug:")).toList() + " in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @Test
    void injectedFailuresDropFramesCleanlyAndLeakNothing() throws Exception {
        Path report = AgentRig.results().resolve("agent-nic-faults");
        String options = "mode=trace+debug+inject,packages=io.dmadirect.drivers:io.dmadirect.hil,failRate=0.1,seed=" + SEED
                + ",failOps=alloc+map,failOnError=true,report=" + report;
        long t0 = System.nanoTime();
        RigProcess.Result child = AgentRig.childWithAgent("agent-nic-faults", options, NicAgentMain.class, List.of("inject"), 420);
        child.assertExit(0);
        String text = Files.readString(Path.of(report + ".txt"), StandardCharsets.UTF_8);
        String json = Files.readString(Path.of(report + ".json"), StandardCharsets.UTF_8);
        long seen = number(child.line("nic agent: seen "), "seen (\\d+) injected");
        assertEquals(seen, AgentReport.number(json, "injected"), "every injected failure is an attach exception or a"
                + " dropped frame the driver counted (report " + json + ")");
        assertEquals(0, AgentReport.number(json, "errors"), text);
        String mapped = child.line("nic agent: mapped: ");
        assertTrue(number(mapped, "(\\d+) mapping failures") > 0, "no mapping failure was injected: " + mapped);
        Rig.note("agent inject nic: " + child.line("nic agent: attach: ").substring("nic agent: ".length()) + "; "
                + mapped.substring("nic agent: ".length()) + "; report " + text.lines().filter(l -> l.startsWith("debug:")
                || l.startsWith("trace:")).toList() + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    private static long number(String line, String regex) {
        Matcher m = Pattern.compile(regex).matcher(line);
        assertTrue(m.find(), "/" + regex + "/ in: " + line);
        return Long.parseLong(m.group(1));
    }
}
