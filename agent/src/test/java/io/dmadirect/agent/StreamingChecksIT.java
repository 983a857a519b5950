package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mode debug for the streaming API, in a child JVM per planted bug ({@code com.example.driver.Streaming}):
 * the report names the check in dma-debug's words, the line of the bug and the stack; a clean driver
 * gives a clean report, and trace counts its maps, unmaps, syncs and bounces.
 */
class StreamingChecksIT {
    private static final String DEBUG = "mode=trace+debug,packages=com.example.driver";
    private static final String SITE = "call site: com.example.driver.Streaming.";

    @Test
    void cleanDriverGivesCleanReportAndTraceCountsIt(@TempDir Path dir) throws Exception {
        String report = dir.resolve("report").toString();
        ChildJvm.run(DEBUG + ",failOnError=true,report=" + report, "stream-clean")
                .assertExit(0)
                .assertContains("stream-clean: done", "debug: 0 errors: clean",
                        // 4 single + 1 scatter list + 1 array + 1 direct + 3 at the large buffer (2 refused)
                        "trace: map 10 calls", "2 failed", "bounced 9 mappings",
                        "site com.example.driver.Streaming.clean(Streaming.java:")
                .assertLacks("DMA-API [");
        String json = Files.readString(Path.of(report + ".json"));
        assertTrue(json.contains("\"errors\":0") && json.contains("\"map\":{\"calls\":10"), json);
        // The scatter list's close is one unmap, as its mapSg was one map: 8 unmaps for the 8 mappings made.
        assertTrue(json.contains("\"unmap\":{\"calls\":8,") && json.contains("\"bounce\":{\"calls\":9,"), json);
    }

    @Test
    void doubleUnmap() throws Exception {
        ChildJvm.run(DEBUG, "double-unmap")
                .assertContains("DMA-API [double-unmap]: device driver tries to free DMA memory it has not allocated:"
                        + " it was already unmapped (double unmap) [device=nic0]", "[size=4096 bytes] [mapped as single]",
                        "first unmapped at: com.example.driver.Streaming.doubleUnmap(",
                        "mapped at: com.example.driver.Streaming.doubleUnmap(",
                        SITE + "doubleUnmap(" + ChildJvm.bugLine("doubleUnmap"),
                        "at com.example.driver.Streaming.doubleUnmap(" + ChildJvm.bugLine("doubleUnmap"),
                        "double-unmap: the library refused: failed to unmap", "debug: 1 error");
    }

    @Test
    void doubleUnmapWithAttributes() throws Exception {
        ChildJvm.run(DEBUG, "double-unmap-attrs")
                .assertContains("DMA-API [double-unmap]: device driver tries to free DMA memory it has not allocated:",
                        "first unmapped at: com.example.driver.Streaming.doubleUnmapWithAttrs(",
                        SITE + "doubleUnmapWithAttrs(" + ChildJvm.bugLine("doubleUnmapWithAttrs"),
                        "double-unmap-attrs: the library refused: failed to unmap", "debug: 1 error");
    }

    @Test
    void unmapThroughAnotherDevice() throws Exception {
        ChildJvm.run(DEBUG, "unmap-different-device")
                .assertContains("DMA-API [unmap-different-device]: device driver frees DMA memory with different device"
                        + " [device=nic0]", "[unmapped through device=nvme0]",
                        SITE + "unmapDifferentDevice(" + ChildJvm.bugLine("unmapDifferentDevice"), "debug: 1 error");
    }

    @Test
    void segmentOfScatterListUnmappedAsSingle() throws Exception {
        ChildJvm.run(DEBUG, "unmap-sg-segment")
                .assertContains("DMA-API [unmap-wrong-function]: device driver frees DMA memory with wrong function"
                        + " [device=nic0]", "[size=1024 bytes] [mapped as scatter-gather] [TO_DEVICE] [bounced]"
                        + " [unmapped as single]", SITE + "unmapSgSegment(" + ChildJvm.bugLine("unmapSgSegment"),
                        "at com.example.driver.Streaming.unmapSgSegment(" + ChildJvm.bugLine("unmapSgSegment"));
    }

    @Test
    void syncAfterUnmap() throws Exception {
        ChildJvm.run(DEBUG, "sync-unmapped")
                .assertContains("DMA-API [sync-unmapped]: device driver tries to sync DMA memory it has not allocated:"
                        + " it was already unmapped", SITE + "syncUnmapped(" + ChildJvm.bugLine("syncUnmapped"),
                        "sync-unmapped: the library refused", "debug: 1 error");
    }

    @Test
    void syncOutsideTheMapping() throws Exception {
        ChildJvm.run(DEBUG, "sync-outside")
                .assertContains("DMA-API [sync-outside]: device driver syncs DMA memory outside allocated range",
                        "[size=4096 bytes]", "[sync offset+size=4000+200]",
                        SITE + "syncOutside(" + ChildJvm.bugLine("syncOutside"), "debug: 1 error");
    }

    @Test
    void syncWithTheWrongDirection() throws Exception {
        ChildJvm.run(DEBUG, "sync-direction")
                .assertContains("DMA-API [sync-direction]: device driver syncs DMA memory with different direction",
                        "[mapped with TO_DEVICE] [synced with FROM_DEVICE]",
                        SITE + "syncDirection(" + ChildJvm.bugLine("syncDirection"), "debug: 1 error");
    }

    @Test
    void mapErrorCaughtThenCarriedOn() throws Exception {
        ChildJvm.run(DEBUG + ",failOnError=true", "map-error-carried-on")
                .assertExit(1)
                .assertContains("DMA-API [map-error-not-checked]: device driver failed to check map error: the"
                        + " DmaMappingException of the map at com.example.driver.Streaming.mapErrorCarriedOn(",
                        "was caught at com.example.driver.Streaming.mapErrorCarriedOn("
                        + ChildJvm.bugLine("mapErrorCarriedOn") + ") -> catch",
                        "and then went on to syncForDevice at com.example.driver.Streaming.mapErrorCarriedOn(",
                        "an earlier mapping that is no longer mapped", "map error: failed to map 512 KiB")
                .assertLacks("DMA-API [sync-unmapped]");
    }

    @Test
    void mapErrorSwallowedByAnEmptyHandler() throws Exception {
        ChildJvm.run(DEBUG, "map-error-swallowed")
                .assertContains("map-error-swallowed: done",
                        "DMA-API [map-error-not-checked]: device driver failed to check map error",
                        "was caught at com.example.driver.Streaming.mapErrorSwallowed("
                        + ChildJvm.bugLine("mapErrorSwallowed") + ") -> catch",
                        "the handler is empty: the error is swallowed",
                        "at com.example.driver.Streaming.mapErrorSwallowed(",
                        "debug: 1 error");
    }

    @Test
    void mappingLeakAtDeviceClose() throws Exception {
        ChildJvm.run(DEBUG, "mapping-leak-at-close")
                .assertContains("DMA-API [leak-at-close]: device driver has pending DMA mappings while released from"
                        + " device [device=edu0] [count=1]", "[size=8192 bytes] [mapped as single] [FROM_DEVICE]",
                        SITE.replace("call site: ", "call site: ") + "mappingLeakAtClose("
                        + ChildJvm.bugLine("mappingLeakAtClose"), "debug: 1 error")
                .assertLacks("[size=4096 bytes]");
    }

    @Test
    void mappingLeakAtExitFailsTheJvm() throws Exception {
        ChildJvm.run(DEBUG + ",failOnError=true", "mapping-leak-at-exit")
                .assertExit(1)
                .assertContains("DMA-API [leak-at-exit]: device driver has pending DMA mappings at exit [count=1]",
                        SITE + "mappingLeakAtExit(" + ChildJvm.bugLine("mappingLeakAtExit"),
                        "at com.example.driver.PlantedBugs.main(", "failOnError=true: exiting with status 1");
    }
}
