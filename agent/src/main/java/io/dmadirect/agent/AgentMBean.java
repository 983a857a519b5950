package io.dmadirect.agent;

import java.lang.management.ManagementFactory;
import javax.management.ObjectName;

/** The MXBean behind {@code io.dmadirect:type=Agent}. */
final class AgentMBean implements DmaAgentMXBean {
    static final String NAME = "io.dmadirect:type=Agent";
    private final AgentDispatcher d;

    private AgentMBean(AgentDispatcher d) {
        this.d = d;
    }

    static void register(AgentDispatcher d) {
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(new AgentMBean(d), new ObjectName(NAME));
        } catch (Exception | LinkageError e) {
            System.err.println("dmadirect-agent: no JMX MBean " + NAME + " (" + e + "); the report at exit still runs");
        }
    }

    @Override
    public String getMode() {
        return d.options.modeName();
    }

    @Override
    public long getAllocations() {
        return d.tracer == null ? -1 : d.tracer.sum(-1, Tracer.ALLOC)[Tracer.CALLS];
    }

    @Override
    public long getAllocationFailures() {
        return d.tracer == null ? -1 : d.tracer.sum(-1, Tracer.ALLOC)[Tracer.FAILURES];
    }

    @Override
    public long getFrees() {
        return d.tracer == null ? -1 : d.tracer.sum(-1, Tracer.FREE)[Tracer.CALLS];
    }

    @Override
    public long getLiveBytes() {
        return d.tracer == null ? -1 : d.liveBytes();
    }

    @Override
    public long getInjectedFailures() {
        return d.tracer == null ? -1 : d.tracer.injected.sum();
    }

    @Override
    public long getLiveBuffers() {
        return d.debug == null ? -1 : d.debug.live.size();
    }

    @Override
    public long getMappings() {
        return count(Tracer.MAP, Tracer.CALLS);
    }

    @Override
    public long getMappingFailures() {
        return count(Tracer.MAP, Tracer.FAILURES);
    }

    @Override
    public long getUnmaps() {
        return count(Tracer.UNMAP, Tracer.CALLS);
    }

    @Override
    public long getSyncs() {
        return count(Tracer.SYNC, Tracer.CALLS);
    }

    @Override
    public long getBouncedMappings() {
        return count(Tracer.BOUNCE, Tracer.CALLS);
    }

    @Override
    public long getBouncedBytes() {
        return count(Tracer.BOUNCE, Tracer.BYTES);
    }

    @Override
    public long[] streamingCountsAt(String callSitePrefix) {
        if (d.tracer == null || callSitePrefix == null) {
            return new long[] {-1, -1};
        }
        return new long[] {d.tracer.sumAt(callSitePrefix, Tracer.MAP)[Tracer.CALLS],
                d.tracer.sumAt(callSitePrefix, Tracer.BOUNCE)[Tracer.CALLS]};
    }

    @Override
    public long getLiveMappings() {
        return d.streaming == null ? -1 : d.streaming.live.size();
    }

    private long count(int kind, int counter) {
        return d.tracer == null ? -1 : d.tracer.sum(-1, kind)[counter];
    }

    @Override
    public long getErrors() {
        return d.findings.count();
    }

    @Override
    public String getReportText() {
        return Reports.text(d);
    }

    @Override
    public String getReportJson() {
        return Reports.json(d);
    }

    @Override
    public String getLiveMap() {
        return Reports.dump(d);
    }
}
