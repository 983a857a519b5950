package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.example.driver.Corpus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 19's checks in child JVMs ({@code com.example.driver.Corpus}): the planted bugs of
 * {@code DebugPlanted}, several per JVM, each finding asserted by its check and the line of its bug; and the
 * clean idioms of {@code CleanIdioms}, which must give no finding and print byte for byte the same with and
 * without the agent in every mode.
 */
class DebugCorpusIT {
    private static final String DEBUG = "mode=debug,packages=com.example.driver";
    private static final List<String> CLEAN = List.of("clean-refill", "clean-retry", "clean-lambdas", "clean-classes",
            "clean-primitive", "clean-bidirectional", "clean-reload", "clean-pool", "clean-pages", "clean-device-access");

    record Run(int exit, String stdout, String stderr) {
    }

    static Run run(String agentOptions, List<String> programs) throws Exception {
        List<String> command = new ArrayList<>(List.of(ChildJvm.JAVA, "-Xshare:auto", "-Xmx256m"));
        if (agentOptions != null) {
            command.add("-javaagent:" + ChildJvm.agentJar() + "=" + agentOptions);
        }
        command.addAll(List.of("-cp", ChildJvm.driverClasspath(), Corpus.class.getName()));
        command.addAll(programs);
        Path err = Files.createTempFile("corpus", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(ChildJvm.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("child JVM did not finish: " + command);
            }
            return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** {@code DebugPlanted.java:<line>} of the line marked {@code // BUG} in {@code method}. */
    static String bugLine(String method) throws Exception {
        List<String> lines = Files.readAllLines(Path.of("src/test/java/com/example/driver/DebugPlanted.java"));
        boolean in = false;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(" " + method + "(") && lines.get(i).trim().startsWith("static")) {
                in = true;
            } else if (in && lines.get(i).contains("// BUG")) {
                return "DebugPlanted.java:" + (i + 1);
            }
        }
        throw new AssertionError("no // BUG line in DebugPlanted." + method);
    }

    /**
     * The one finding of {@code check} whose call site is {@code method}'s bug line, with {@code texts} in it;
     * {@code lambda:m} is the bug in a lambda inside {@code m}, whose site is the lambda's synthetic method.
     */
    static void assertFinding(String stderr, String check, String method, String... texts) throws Exception {
        boolean lambda = method.startsWith("lambda:");
        String source = lambda ? method.substring("lambda:".length()) : method;
        String site = "call site: com.example.driver.DebugPlanted." + (lambda ? "lambda$" + source + "$" : source + "(");
        String line = bugLine(source);
        List<String> matching = new ArrayList<>();
        // As the findings were printed, not as the report at exit repeats them.
        String printed = stderr.substring(0, Math.max(0, stderr.indexOf("dmadirect-agent report")));
        for (String block : printed.split("dmadirect-agent: ")) {
            if (block.startsWith("DMA-API [" + check + "]") && block.contains(line) && block.contains(site)) {
                matching.add(block);
            }
        }
        assertEquals(1, matching.size(), "expected one " + check + " finding at " + line + " in:\n" + stderr);
        for (String t : texts) {
            assertTrue(matching.get(0).contains(t), "expected '" + t + "' in:\n" + matching.get(0));
        }
    }

    @Test
    void eachPlantedBugIsReportedOnceAtItsLine() throws Exception {
        Run r = run(DEBUG + ",staleReads=true", List.of("stale-read", "overlap-rx", "overlap-primitive", "lambda-swallowed", "lambda-double-unmap",
                "unmap-size", "unmap-direction", "unmap-never-mapped", "double-unmap-primitive",
                "sync-outside-primitive", "sync-direction-primitive", "unmap-sg-wrong-function",
                "primitive-leak-at-close", "pool-double-free", "pool-free-not-allocated", "pool-leak",
                "pool-not-destroyed", "pages-double-free", "pages-leak", "device-write-after-free",
                "device-read-after-unmap"));
        String e = r.stderr();
        // The receive buffer read before its sync shows the pattern (without the agent it reads the 0x11 the
        // program wrote); after the unmap it holds what it held, as without the agent.
        assertTrue(r.stdout().contains("stale-read: before the sync 0x5a, after the unmap 0x11"), r.stdout());
        assertFinding(e, "overlapping-mappings", "overlappingReceiveSlots", "cacheline tracking EEXIST, overlapping"
                + " mappings aren't supported", "[same bytes]", "already mapped at: com.example.driver.DebugPlanted");
        assertFinding(e, "overlapping-mappings", "overlappingPrimitive", "[same bytes]", "[BIDIRECTIONAL]");
        assertFinding(e, "map-error-not-checked", "lambda:swallowedInALambda", "the handler is empty");
        assertFinding(e, "double-unmap", "lambda:doubleUnmapInALambda", "already unmapped (double unmap)");
        assertFinding(e, "unmap-size", "unmapWrongSize", "frees DMA memory with different size",
                "[map size=4096 bytes] [unmap size=2048 bytes]");
        assertFinding(e, "unmap-direction", "unmapWrongDirection", "frees DMA memory with different direction",
                "[mapped with FROM_DEVICE] [unmapped with TO_DEVICE]");
        assertFinding(e, "unmap-not-mapped", "unmapNeverMapped", "free DMA memory it has not allocated",
                "[device address=0x76543000]");
        assertFinding(e, "double-unmap", "doubleUnmapPrimitive", "already unmapped (double unmap)");
        assertFinding(e, "sync-outside", "syncOutsidePrimitive", "syncs DMA memory outside allocated range");
        assertFinding(e, "sync-direction", "syncDirectionPrimitive", "[mapped with TO_DEVICE] [synced with FROM_DEVICE]");
        assertFinding(e, "unmap-wrong-function", "sgUnmappedAsSingle", "[mapped as scatter-gather]",
                "[unmapped as single]");
        assertTrue(e.contains("DMA-API [leak-at-close]: device driver has pending DMA mappings while released from"
                + " device [device=edu0] [count=1]") && e.contains("call site: com.example.driver.DebugPlanted"
                + ".primitiveLeakAtClose(" + bugLine("primitiveLeakAtClose")), e);
        assertFinding(e, "pool-double-free", "poolDoubleFree", "dma_pool_free rx-desc", "already free");
        assertFinding(e, "pool-free-not-allocated", "poolFreeNotAllocated", "(bad dma)");
        assertTrue(e.contains("DMA-API [pool-destroy-busy]: dma_pool_destroy cmd, busy: 1 block(s) still allocated\n"
                + "  call site: com.example.driver.DebugPlanted.poolBlocksLeakAtClose("), e);
        assertTrue(e.contains("DMA-API [leak-at-close]: device driver has pending DMA pool blocks while released from"
                + " device [pool=cmd] [count=1]"), e);
        // A pool never destroyed: its three pages reported once, at its createPool line, not at the alloc that
        // happened to need a page; the refused destroy of pool-leak leaves its pool undestroyed too.
        assertFinding(e, "pool-not-destroyed", "poolNotDestroyed", "DMA pool sq-entries was never destroyed",
                "[pages=3] [bytes=12288]", "[device=edu1]");
        assertTrue(e.contains("DMA-API [pool-not-destroyed]: device driver has pending DMA allocations while released from"
                + " device [device=edu0]: DMA pool cmd was never destroyed"), e);
        // dma_alloc_pages() memory, tracked as dma-debug tracks it: a double free, a leak at the device's close.
        assertFinding(e, "pages-double-free", "pagesDoubleFree", "already freed (double free)");
        assertFinding(e, "leak-at-close", "pagesLeakAtClose", "pending DMA allocations (dma_alloc_pages) while"
                + " released from device [device=edu2] [count=1]");
        // The device's DMA into memory its driver released faults on the simulated bus (IOMMU_DEBUG_PAGEALLOC's
        // spirit): the access does not land, the bus master records it, and the finding names both ends.
        assertFinding(e, "device-access-after-free", "deviceWritesFreedBuffer", "device writes DMA memory its driver"
                + " has already freed", "[access=write of 64 bytes at 0x", "freed at: com.example.driver.DebugPlanted"
                + ".deviceWritesFreedBuffer(", "allocated at: com.example.driver.DebugPlanted.deviceWritesFreedBuffer(");
        assertFinding(e, "device-access-after-free", "deviceReadsUnmappedMapping", "device reads DMA memory its"
                + " driver has already unmapped", "[TO_DEVICE]", "unmapped at: com.example.driver.DebugPlanted");
        assertTrue(r.stdout().contains("device-write-after-free: landed=false, faults=1")
                && r.stdout().contains("device-read-after-unmap: read=false, faults=1"), r.stdout());
        for (String block : e.substring(0, e.indexOf("dmadirect-agent report")).split("dmadirect-agent: ")) {
            assertTrue(!block.contains("not rewritten"), "every call site is rewritten:\n" + block);
            assertTrue(!block.contains("call site: com.example.driver.DebugPlanted.lambda$")
                    || !block.contains("not rewritten"), "a lambda's call site is"
                    + " rewritten:\n" + block);
        }
        // One finding per planted bug, and: the second segment unmapped as single too; the leaked pool block is
        // busy at the destroy and leaked at the close, where its pool (whose page the refused destroy kept) is
        // not destroyed, as dma-debug reports a pool's page at unbind.
        assertTrue(e.contains("debug: 23 errors"), e);
        assertEquals(0, r.exit(), e);
    }

    @Test
    void cleanIdiomsGiveNoFindingAndTheSameOutputInEveryMode() throws Exception {
        Run bare = run(null, CLEAN);
        assertEquals(0, bare.exit(), bare.stderr());
        assertTrue(bare.stdout().contains("reload 4: ok") && bare.stdout().contains("pages reload 4: ok") && bare.stdout().contains("refill with return: stopped at"),
                bare.stdout());
        // Four child JVMs in all (CI budget 90 s): the planted bugs; the bare run, the reference output; trace,
        // debug with poison at its quarantine's default cap and inject at rate 0 together, which proves every
        // advice at once leaves a correct program's output alone (a trace-only run proved nothing more, and a
        // debug-only run with the default cap is this one minus trace and inject); and debug with a quarantine
        // cap the 6 MiB reloads fill (drained when an allocation fails) plus staleReads=true, the options that
        // touch a correct program's memory.
        for (String mode : List.of(
                "mode=trace+debug+inject,packages=com.example.driver,failRate=0,failOnError=true,poison=true",
                DEBUG + ",failOnError=true,poison=true,quarantineBytes=64m,staleReads=true")) {
            Run r = run(mode, CLEAN);
            assertEquals(bare.stdout(), r.stdout(), "stdout differs under " + mode + "; stderr:\n" + r.stderr());
            assertEquals(0, r.exit(), mode + ":\n" + r.stderr());
            assertTrue(!r.stderr().contains("DMA-API [") && !r.stderr().contains("internal fault"),
                    mode + ":\n" + r.stderr());
            if (mode.contains("debug")) {
                assertTrue(r.stderr().contains("debug: 0 errors: clean"), mode + ":\n" + r.stderr());
            }
        }
    }
}
