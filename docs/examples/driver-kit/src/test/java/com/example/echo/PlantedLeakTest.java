package com.example.echo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.junit.DeviceUnderTest;
import io.dmadirect.junit.DmaTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * A planted leak: {@link Leaking} stages a buffer and never releases it. Run through the JUnit Platform
 * launcher, its test must fail, and the failure must name the driver's line that allocated the buffer
 * ({@code EchoDriver.stage}).
 */
class PlantedLeakTest {

    /** The test with the planted leak; nested, so that surefire does not run it on its own. */
    @DmaTest(maskBits = 24, where = DmaTest.Where.SIMULATED)
    static class Leaking {
        @Test
        void stagesAndForgets(DeviceUnderTest device, DmaDevice dma) {
            EchoDriver driver = new EchoDriver(dma, new SimulatedEdu(device, dma, 24));
            DmaBuffer staged = driver.stage(new byte[256]);
            assertEquals(256, staged.size());
            // planted leak: no driver.release(staged)
        }
    }

    @Test
    void theLeakFailsTheTestAndNamesTheCallSite() {
        List<String> failures = new ArrayList<>();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(Leaking.class))
                .build(), new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                        if (id.isTest()) {
                            failures.add(result.getStatus() + ": " + result.getThrowable().map(Throwable::getMessage).orElse(""));
                        }
                    }
                });
        System.out.println("planted leak, as the extension reported it:\n" + failures);
        assertEquals(1, failures.size(), failures.toString());
        String failure = failures.get(0);
        assertTrue(failure.startsWith("FAILED: DMA leak: the test left 1 allocation(s) or mapping(s) on simulated:"), failure);
        assertTrue(failure.contains("allocCoherent(256 bytes) at DMA 0x"), failure);
        assertTrue(failure.contains("allocated at com.example.echo.EchoDriver.stage(EchoDriver.java:"), failure);
    }
}
