package com.example.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.junit.DeviceUnderTest;
import io.dmadirect.junit.DmaTest;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The extension under the real dmadirect agent ({@code -javaagent:dmadirect-agent.jar=mode=debug}, the POM's
 * {@code under-the-agent} execution): a correct driver's test passes with no finding, and a test whose driver
 * maps one receive buffer twice for the device to write (dma-debug's "overlapping mappings") fails with the
 * agent's finding, though the library itself accepts both maps.
 */
class UnderTheAgentTest {

    /** The fixtures; nested so that surefire does not run them on their own. */
    @DmaTest(maskBits = 28, where = DmaTest.Where.SIMULATED)
    static class Fixtures {
        @Test
        void correctDriver(DeviceUnderTest device, DmaDevice dma) {
            EchoDriver driver = new EchoDriver(dma, new SimulatedEdu(device, dma, 28));
            byte[] data = new byte[1024];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
            assertArrayEquals(data, driver.roundTrip(data));
        }

        @Test
        void oneReceiveBufferInTwoRingSlots(DmaDevice dma) {
            ByteBuffer receive = ByteBuffer.allocateDirect(2048);
            DmaMapping slot0 = dma.map(receive, DmaDirection.FROM_DEVICE);
            DmaMapping slot1 = dma.map(receive, DmaDirection.FROM_DEVICE); // planted: the same buffer again
            slot1.close();
            slot0.close();
        }
    }

    /** Runs one fixture through the launcher; its outcome, "STATUS: message". */
    private static List<String> run(String method, String parameterTypes) {
        List<String> outcomes = new ArrayList<>();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(Fixtures.class, method, parameterTypes)).build(), new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                        if (id.isTest()) {
                            outcomes.add(result.getStatus() + ": " + result.getThrowable().map(Throwable::getMessage).orElse(""));
                        }
                    }
                });
        return outcomes;
    }

    @Test
    void theAgentIsLoadedInDebugMode() throws Exception {
        ObjectName agent = new ObjectName("io.dmadirect:type=Agent");
        assertTrue(ManagementFactory.getPlatformMBeanServer().isRegistered(agent),
                "this class runs under -javaagent (the POM's under-the-agent execution)");
        assertTrue(String.valueOf(ManagementFactory.getPlatformMBeanServer().getAttribute(agent, "Mode")).contains("debug"));
    }

    @Test
    void aCorrectDriverGivesNoFinding() {
        List<String> outcomes = run("correctDriver", "io.dmadirect.junit.DeviceUnderTest, io.dmadirect.DmaDevice");
        assertEquals(List.of("SUCCESSFUL: "), outcomes);
    }

    @Test
    void overlappingReceiveMappingsFailTheTestWithTheAgentsFinding() {
        List<String> outcomes = run("oneReceiveBufferInTwoRingSlots", "io.dmadirect.DmaDevice");
        System.out.println("planted overlap, as the extension reported it:\n" + outcomes);
        assertEquals(1, outcomes.size(), outcomes.toString());
        String outcome = outcomes.get(0);
        assertTrue(outcome.startsWith("FAILED: the dmadirect agent found "), outcome);
        assertTrue(outcome.contains("overlapping mappings aren't supported"), outcome);
    }
}
