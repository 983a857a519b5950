package io.dmadirect.junit;

import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The dmadirect agent's DMA-API debug findings, read through its MBean ({@code io.dmadirect:type=Agent}), so
 * the extension needs the agent only when it is loaded ({@code -javaagent:dmadirect-agent.jar=mode=debug}).
 * A test fails on the findings that appeared while it ran.
 */
final class AgentFindings {
    private static final ObjectName AGENT = name();

    private AgentFindings() {
    }

    private static ObjectName name() {
        try {
            return new ObjectName("io.dmadirect:type=Agent");
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@return the agent's error count so far, or -1 when no agent (or one without debug) is loaded} */
    static long errors() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            if (!server.isRegistered(AGENT) || !String.valueOf(server.getAttribute(AGENT, "Mode")).contains("debug")) {
                return -1;
            }
            return ((Number) server.getAttribute(AGENT, "Errors")).longValue();
        } catch (JMException e) {
            return -1;
        }
    }

    /** {@return the agent's report (its findings, each with a stack), or a note why it cannot be read} */
    static String report() {
        try {
            return String.valueOf(ManagementFactory.getPlatformMBeanServer().getAttribute(AGENT, "ReportText"));
        } catch (JMException e) {
            return "(the agent's report could not be read: " + e + ")";
        }
    }
}
