package io.dmadirect.agent;

/** Live counters of the agent, as {@code io.dmadirect:type=Agent} in JConsole or JDK Mission Control. */
public interface DmaAgentMXBean {
    String getMode();

    long getAllocations();

    long getAllocationFailures();

    long getFrees();

    long getLiveBytes();

    long getInjectedFailures();

    long getLiveBuffers();

    long getErrors();

    String getReportText();

    String getReportJson();

    String getLiveMap();
}
