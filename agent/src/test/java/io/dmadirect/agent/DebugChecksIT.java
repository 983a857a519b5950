package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mode debug, in a child JVM per planted bug: the report names the check, the line of the bug and the
 * stack; a clean driver gives a clean report.
 */
class DebugChecksIT {
    private static final String DEBUG = "mode=trace+debug,packages=com.example.driver";

    @Test
    void cleanDriverGivesCleanReport(@TempDir Path dir) throws Exception {
        String report = dir.resolve("report").toString();
        ChildJvm.run(DEBUG + ",failOnError=true,report=" + report, "clean")
                .assertExit(0)
                .assertContains("clean: done", "debug: 0 errors: clean",
                        "site com.example.driver.PlantedBugs.clean(PlantedBugs.java:")
                .assertLacks("DMA-API [");
        String json = Files.readString(Path.of(report + ".json"));
        assertTrue(json.contains("\"errors\":0") && json.contains("\"findings\":[]"), json);
        assertTrue(json.contains("\"free\":{\"calls\":9"), json);
    }

    @Test
    void leakAtExitNamesTheAllocationAndFailsTheJvm() throws Exception {
        ChildJvm.run(DEBUG + ",failOnError=true", "leak-at-exit")
                .assertExit(1)
                .assertContains("DMA-API [leak-at-exit]: device driver has pending DMA allocations at exit [count=1]",
                        "[size=4096 bytes]", "call site: com.example.driver.PlantedBugs.leakAtExit("
                        + ChildJvm.bugLine("leakAtExit"), "at com.example.driver.PlantedBugs.main(",
                        "failOnError=true: exiting with status 1");
    }

    @Test
    void leakAtDeviceClose() throws Exception {
        ChildJvm.run(DEBUG, "leak-at-close")
                .assertExit(0)
                .assertContains("DMA-API [leak-at-close]: device driver has pending DMA allocations while released"
                        + " from device [device=edu0] [count=1]", "[size=8192 bytes]",
                        "call site: com.example.driver.PlantedBugs.leakAtClose(" + ChildJvm.bugLine("leakAtClose"),
                        "at com.example.driver.PlantedBugs.leakAtClose(" + ChildJvm.bugLine("leakAtClose"))
                .assertLacks("[size=4096 bytes]");
    }

    @Test
    void doubleFree() throws Exception {
        ChildJvm.run(DEBUG, "double-free")
                .assertContains("DMA-API [double-free]: device driver tries to free DMA memory it has not allocated:"
                        + " it was already freed (double free)", "first freed at: com.example.driver.PlantedBugs.doubleFree(",
                        "call site: com.example.driver.PlantedBugs.doubleFree(" + ChildJvm.bugLine("doubleFree"),
                        "at com.example.driver.PlantedBugs.doubleFree(" + ChildJvm.bugLine("doubleFree"),
                        "double-free: the library refused: failed to free", "debug: 1 error");
    }

    @Test
    void doubleFreeUnderQuarantine() throws Exception {
        ChildJvm.run(DEBUG + ",poison=true", "double-free")
                .assertContains("DMA-API [double-free]: device driver tries to free DMA memory it has not allocated:",
                        // under quarantine the library has not seen the first free: the agent refuses as it would
                        "double-free: the library refused: failed to free", "debug: 1 error");
    }

    @Test
    void freeOfWhatWasNeverAllocated() throws Exception {
        ChildJvm.run(DEBUG, "free-not-allocated")
                .assertContains("DMA-API [free-not-allocated]: device driver tries to free DMA memory it has not allocated",
                        "call site: com.example.driver.PlantedBugs.freeNotAllocated("
                        + ChildJvm.bugLine("freeNotAllocated"), "debug: 1 error");
    }

    @Test
    void freeThroughAnotherDevice() throws Exception {
        ChildJvm.run(DEBUG, "free-different-device")
                .assertContains("DMA-API [free-different-device]: device driver frees DMA memory with different device",
                        "[device=nic0]", "[freed through device=nvme0]",
                        "call site: com.example.driver.PlantedBugs.freeDifferentDevice("
                        + ChildJvm.bugLine("freeDifferentDevice"), "debug: 1 error");
    }

    @Test
    void writeAfterFreeIsCaughtByThePoison() throws Exception {
        ChildJvm.run(DEBUG + ",poison=true", "write-after-free")
                .assertContains("DMA-API [write-after-free]: device driver wrote to DMA memory after freeing it",
                        "[offset=128: 0xde instead of poison 0xa7]",
                        "freed at: com.example.driver.PlantedBugs.writeAfterFree(", "debug: 1 error");
    }

    @Test
    void writeAfterFreeOfPagesIsCaughtByThePoison() throws Exception {
        // dma_alloc_pages() memory is quarantined as coherent memory is: the stale write is seen when the
        // device's close lets it go, and the double free of a quarantined buffer is refused as the library would.
        ChildJvm.run(DEBUG + ",poison=true", "pages-write-after-free")
                .assertContains("DMA-API [write-after-free]: device driver wrote to DMA memory after freeing it"
                        + " (dma_free_pages)", "[offset=256: 0xde instead of poison 0xa7]",
                        "freed at: com.example.driver.PlantedBugs.pagesWriteAfterFree(",
                        "DMA-API [pages-double-free]", "pages-write-after-free: the second free was refused",
                        "debug: 2 errors");
    }

    @Test
    void allocateDirectInDriverPackages() throws Exception {
        ChildJvm.run(DEBUG + ",nonDmaMemory=true", "allocate-direct")
                .assertContains("DMA-API [non-dma-memory]: device driver allocates memory with ByteBuffer.allocateDirect",
                        "call site: com.example.driver.PlantedBugs.allocateDirect(" + ChildJvm.bugLine("allocateDirect"),
                        "debug: 1 error");
    }
}
