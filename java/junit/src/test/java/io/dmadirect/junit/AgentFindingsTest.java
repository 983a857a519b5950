package io.dmadirect.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With an agent in debug mode registered (here a stand-in with the agent's MBean attributes), a finding that
 * appears during a test fails it with the agent's report; findings from before the test do not.
 */
class AgentFindingsTest {
    private static final ObjectName NAME = name();

    /** The agent MBean's attributes the extension reads. */
    public interface StandInMBean {
        String getMode();

        long getErrors();

        String getReportText();
    }

    /** Counts what {@link Fixtures}' test reports as a finding. */
    public static final class StandIn implements StandInMBean {
        static volatile long errors = 3;   // findings before the test: not the test's

        @Override
        public String getMode() {
            return "trace+debug";
        }

        @Override
        public long getErrors() {
            return errors;
        }

        @Override
        public String getReportText() {
            return "dma-debug: unmap with the wrong size at com.acme.Nic.tx(Nic.java:42)";
        }
    }

    @DmaTest
    static class FindsOne {
        @Test
        void makesAFinding(io.dmadirect.DmaDevice dma) {
            StandIn.errors++;
        }

        @Test
        void makesNone(io.dmadirect.DmaDevice dma) {
        }
    }

    private static ObjectName name() {
        try {
            return new ObjectName("io.dmadirect:type=Agent");
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void register() throws Exception {
        ManagementFactory.getPlatformMBeanServer().registerMBean(new StandIn(), NAME);
    }

    @AfterEach
    void unregister() throws Exception {
        ManagementFactory.getPlatformMBeanServer().unregisterMBean(NAME);
    }

    @Test
    void aFindingDuringTheTestFailsItWithTheAgentsReport() {
        var outcomes = Launch.run(FindsOne.class);
        Launch.Outcome found = Launch.only(outcomes, "makesAFinding");
        assertEquals("FAILED", found.status(), found.toString());
        assertTrue(found.message().startsWith("the dmadirect agent found 1 DMA-API error(s) during this test:\n"
                + "dma-debug: unmap with the wrong size at com.acme.Nic.tx(Nic.java:42)"), found.message());
        assertEquals("SUCCESSFUL", Launch.only(outcomes, "makesNone").status(), "earlier findings are not this test's");
    }
}
