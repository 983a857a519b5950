package io.dmadirect.agent;

/** Live counters of the agent, as {@code io.dmadirect:type=Agent} in JConsole or JDK Mission Control. */
public interface DmaAgentMXBean {
    String getMode();

    long getAllocations();

    long getAllocationFailures();

    long getFrees();

    /** Coherent bytes allocated and not freed; -1 without trace, or after a dynamic attach without debug (unknown). */
    long getLiveBytes();

    long getInjectedFailures();

    long getLiveBuffers();

    /** Streaming maps ({@code map} and {@code mapSg} calls), -1 without trace. */
    long getMappings();

    long getMappingFailures();

    /** Unmapped mappings and scatter-list segments, -1 without trace. */
    long getUnmaps();

    long getSyncs();

    /** Mappings (or segments) served by the bounce pool, and their bytes; -1 without trace. */
    long getBouncedMappings();

    long getBouncedBytes();

    /**
     * Streaming maps ({@code map} and {@code mapSg} calls) and bounced mappings (or segments) made at the call
     * sites whose text starts with {@code callSitePrefix} (a driver's package, {@code "io.dmadirect.drivers.nvme."},
     * or one method, {@code "com.example.Nic.send("}), as {@code {maps, bounced}}; {@code {-1, -1}} without trace.
     * Unlike {@link #getMappings()} and {@link #getBouncedMappings()}, read one after the other while other
     * threads map, the pair counts one driver's calls and does not mix in another thread's mapping that fell
     * between the two reads.
     */
    long[] streamingCountsAt(String callSitePrefix);

    /** Live streaming mappings (segments count one each), -1 without debug. */
    long getLiveMappings();

    long getErrors();

    String getReportText();

    String getReportJson();

    String getLiveMap();
}
