package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Lab notebook (issue 7): the drivers meet allocation and mapping failures that the javaagent injects.
 * Device: edu (every variant); NVMe (the IOMMU variants iommu-vfio and iommufd, tag nvme).
 * Setup: this JVM lets the edu go (VFIO gives a device to one process), then one child JVM runs
 * {@link FaultsMain} with {@code -javaagent:dmadirect-agent.jar=mode=trace+debug+inject,failRate=0.1,seed=..,
 * failOps=alloc+map,failOnError=true,report=...}: one allocation or mapping in ten fails, anywhere, the
 * same ones in every run of the same code.
 * Action: edu round trips through coherent buffers and bounced heap arrays ({@link EduFaults}); NVMe attaches
 * with two MSI-X queue pairs, then I/O from coherent buffers, a direct ByteBuffer and byte[] ({@link NvmeFaults});
 * every operation that fails is retried.
 * Seen: the child exits 0 within its time limit (no crash, no hang). Every failure is the agent's own
 * DmaAllocationException or DmaMappingException, arriving unchanged: it names the operation, the size, the
 * device and the driver's call site. After each, the platform holds what it held before (memory, bounce
 * slots, eventfds), nothing is left in flight, and the next round moves correct bytes. The agent's report
 * at exit: no DMA-API error (no leak at close or exit) and exactly as many injected failures as the
 * workloads saw, so none was swallowed on the way.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Order(Integer.MAX_VALUE)
class AgentFaultInjectionTest {
    private static final long SEED = 8;
    private RigProcess.Result child;
    private String reportText;
    private String reportJson;
    private final long started = System.nanoTime();

    @BeforeAll
    void runTheDriversUnderInjection() throws Exception {
        Rig.requireRig();
        Rig.releaseEdu();
        Path report = AgentRig.results().resolve("agent-faults");
        String options = "mode=trace+debug+inject,packages=io.dmadirect.drivers:io.dmadirect.hil,failRate=0.1,seed="
                + SEED + ",failOps=alloc+map,failOnError=true,report=" + report;
        List<String> args = new ArrayList<>(List.of("edu"));
        if (Rig.iommu()) {
            args.add("nvme"); // bound to vfio-pci only in the intel-iommu variant
        }
        long t0 = System.nanoTime();
        child = AgentRig.childWithAgent("agent-faults", options, FaultsMain.class, args, 420);
        Rig.note("agent inject: child JVM " + args + " exit " + child.exitCode() + " in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms, -javaagent options " + options);
        child.assertExit(0);
        reportText = Files.readString(Path.of(report + ".txt"), StandardCharsets.UTF_8);
        reportJson = Files.readString(Path.of(report + ".json"), StandardCharsets.UTF_8);
    }

    @Test
    void eduFailuresAreCleanErrorsAndTheNextRoundMovesCorrectData() {
        String done = child.line("faults edu: done: ");
        assertTrue(number(done, "(\\d+) rounds MATCH") >= EduFaults.ROUNDS, done);
        assertTrue(number(done, "(\\d+) allocation") > 0 && number(done, "(\\d+) mapping") > 0, done);
        assertTrue(number(done, "(\\d+) rounds right after a failure MATCH") > 0, done);
        assertMessages(child.lines("faults edu: injected DmaAllocationException: "), "failed to allocate 4095 bytes"
                + " of coherent DMA memory for " + System.getenv("DMADIRECT_RIG_EDU_BDF"), "at io.dmadirect.hil.EduFaults.round(");
        assertMessages(child.lines("faults edu: injected DmaMappingException: "), "failed to map 4095 bytes for "
                + System.getenv("DMADIRECT_RIG_EDU_BDF"), "at io.dmadirect.hil.EduFaults.round(");
        Rig.note("agent inject edu evidence: " + done.substring("faults edu: ".length()) + "; e.g. "
                + child.lines("faults edu: injected ").get(0).substring("faults edu: injected ".length()));
    }

    @Test
    @Tag("nvme")
    void nvmeAttachAndStreamingFailuresAreCleanErrors() {
        String attach = child.line("faults nvme: attach: ");
        assertTrue(number(attach, "(\\d+) injected") >= NvmeFaults.ATTACH_FAILURES, attach);
        String nvme = System.getenv("DMADIRECT_RIG_NVME_BDF");
        assertMessages(child.lines("faults nvme attach: injected DmaAllocationException: "),
                "of coherent DMA memory for " + nvme, "at io.dmadirect.drivers.nvme.Nvme");
        String io = child.line("faults nvme: io: ");
        assertTrue(number(io, "(\\d+) rounds MATCH") >= NvmeFaults.IO_ROUNDS, io);
        assertTrue(number(io, "(\\d+) mapping") > 0, io);
        assertMessages(child.lines("faults nvme io: injected DmaMappingException: "), "for " + nvme,
                "at io.dmadirect.drivers.nvme.NvmeQueuePair.mapped");
        for (String line : child.lines("faults nvme")) {
            Rig.note("agent inject nvme evidence: " + line);
        }
    }

    @Test
    void theAgentSawEveryFailureSurfaceAndNoLeak() {
        long seen = number(child.line("faults: seen "), "seen (\\d+) injected");
        assertEquals(seen, AgentReport.number(reportJson, "injected"), "every failure the agent injected reached the"
                + " workload as an exception (report " + reportJson + ")");
        assertEquals(0, AgentReport.number(reportJson, "errors"), reportText);
        assertEquals(0, AgentReport.number(reportJson, "outsidePackages"), reportText);
        assertTrue(reportText.contains("debug: 0 errors: clean"), reportText);
        Rig.note("agent inject report: " + reportText.lines().filter(l -> l.startsWith("debug:") || l.startsWith("trace:"))
                .toList() + "; the workloads saw " + seen + " injected failures");
    }

    @AfterAll
    void time() {
        Rig.note("AgentFaultInjectionTest finished, agent tests " + (System.nanoTime() - started) / 1_000_000_000 + " s");
    }

    /** At least one message, and every one has the agent's mark and each of {@code parts}. */
    private void assertMessages(List<String> lines, String... parts) {
        assertTrue(!lines.isEmpty(), "no injected failure of this kind was printed:\n" + child.describe());
        for (String line : lines) {
            assertTrue(line.contains(InjectedFailures.MARK), line);
            for (String part : parts) {
                assertTrue(line.contains(part), "'" + part + "' in: " + line);
            }
        }
    }

    private static long number(String line, String regex) {
        Matcher m = Pattern.compile(regex).matcher(line);
        assertTrue(m.find(), "/" + regex + "/ in: " + line);
        return Long.parseLong(m.group(1));
    }
}
