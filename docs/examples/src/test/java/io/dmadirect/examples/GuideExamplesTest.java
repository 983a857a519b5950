package io.dmadirect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.Test;

/** Runs the guide's examples that need no hardware, and checks what the guide says they show. */
class GuideExamplesTest {

    @Test
    void quickStartFallsBackFromDma32ToDmaForA28BitDevice() {
        AllocationReport report = SimulatedQuickStart.firstAllocation();
        assertEquals(Zone.DMA32, report.optimalZone());
        assertEquals(Zone.DMA, report.zone());
        assertEquals(AllocationPath.PAGES, report.path());
    }

    @Test
    void theRightMaskGivesCorrectDataAndAWrongOneCorruptsIt() {
        assertTrue(TestingOnSimulation.deviceWriteArrives(28));
        assertFalse(TestingOnSimulation.deviceWriteArrives(64));
    }

    @Test
    void aConfidentialGuestBouncesEveryMapping() {
        assertTrue(TestingOnSimulation.confidentialGuestBounces());
    }

    @Test
    void noncoherentMemoryIsReadAfterTheSyncForTheCpu() {
        assertEquals(42, NoncoherentMemory.receive());
    }

    @Test
    void streamingExamplesBehaveAsTheGuideSays() {
        assertEquals(7, TestingOnSimulation.streaming());
    }

    @Test
    void theDmaPoolExampleLeavesNoBlockLive() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder()
                .region(0, 16 * Sizes.MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("pool-example"));
            assertEquals(0, DmaPoolExamples.descriptors(device));
        }
    }
}
