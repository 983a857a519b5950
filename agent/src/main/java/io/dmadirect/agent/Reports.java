package io.dmadirect.agent;

import io.dmadirect.AllocationPath;
import io.dmadirect.DmaDevice;
import io.dmadirect.Zone;
import java.util.List;
import java.util.Locale;

/** The report at exit (text and JSON) and the dump of the live DMA map. */
final class Reports {
    private Reports() {
    }

    static String text(AgentDispatcher d) {
        StringBuilder b = new StringBuilder();
        b.append("dmadirect-agent report (mode=").append(d.options.modeName()).append(")\n");
        long faults = d.findings.agentFaults();
        if (faults > 0) {
            b.append("agent: ").append(faults).append(" internal fault(s) in its own bookkeeping (printed above, once"
                    + " per check): the checks are incomplete\n");
        }
        if (d.debug != null) {
            List<Findings.Finding> list = d.findings.list();
            b.append("debug: ").append(d.findings.count()).append(d.findings.count() == 1 ? " error" : " errors");
            if (d.findings.outsidePackages() > 0) {
                b.append(" (").append(d.findings.outsidePackages()).append(" more outside packages=, not reported)");
            }
            b.append(!list.isEmpty() ? "\n" : faults == 0 ? ": clean\n" : ": none found, but the agent faulted\n");
            for (Findings.Finding f : list) {
                b.append(f.render());
            }
        }
        if (d.tracer != null) {
            Tracer t = d.tracer;
            b.append("trace: ").append(line("alloc", t.sum(-1, Tracer.ALLOC))).append(", ")
                    .append(line("free", t.sum(-1, Tracer.FREE))).append(", live ").append(liveText(d))
                    .append(", injected ").append(t.injected.sum()).append(" (latency: each thread's first ")
                    .append(io.dmadirect.agent.bootstrap.DmaHooks.TIME_ALL).append(" calls, then 1 in ")
                    .append(io.dmadirect.agent.bootstrap.DmaHooks.SAMPLE).append(", timed)\n");
            for (AllocationPath p : AllocationPath.values()) {
                long[] s = t.pathZone(p, null);
                if (s[0] > 0) {
                    b.append("  path ").append(p).append(": ").append(s[0]).append(" allocs, ").append(s[1]).append(" B\n");
                }
            }
            for (Zone z : Zone.values()) {
                long[] s = t.pathZone(null, z);
                if (s[0] > 0) {
                    b.append("  zone ").append(z).append(": ").append(s[0]).append(" allocs, ").append(s[1]).append(" B\n");
                }
            }
            long[] bounce = t.sum(-1, Tracer.BOUNCE);
            b.append("trace: ").append(line("map", t.sum(-1, Tracer.MAP))).append(", ")
                    .append(line("unmap", t.sum(-1, Tracer.UNMAP))).append(", ")
                    .append(line("sync", t.sum(-1, Tracer.SYNC))).append(", bounced ").append(bounce[Tracer.CALLS])
                    .append(" mappings, ").append(bounce[Tracer.BYTES]).append(" B\n");
            for (int id = 0; id <= CallSites.count(); id++) {
                StringBuilder site = new StringBuilder();
                for (int kind = Tracer.ALLOC; kind < Tracer.BOUNCE; kind += 6) {
                    long[] k = t.sum(id, kind);
                    if (k[Tracer.CALLS] > 0) {
                        site.append(site.length() == 0 ? "" : ", ").append(line(KINDS[kind / 6], k));
                    }
                }
                long[] bs = t.sum(id, Tracer.BOUNCE);
                if (bs[Tracer.CALLS] > 0) {
                    site.append(", bounced ").append(bs[Tracer.CALLS]).append(" mappings, ").append(bs[Tracer.BYTES])
                            .append(" B");
                }
                if (site.length() > 0) {
                    b.append("  site ").append(CallSites.text(id)).append(": ").append(site).append('\n');
                }
            }
        }
        return b.toString();
    }

    /** The names of the kinds of {@link Tracer}, by offset / 6. */
    static final String[] KINDS = {"alloc", "free", "map", "unmap", "sync", "bounce"};

    private static String liveText(AgentDispatcher d) {
        long live = d.liveBytes();
        return live >= 0 ? live + " B" + (d.trackedFromStart ? "" : " allocated since the attach")
                : "unknown (attached at run time: the driver also frees buffers allocated before; add mode=debug"
                        + " for the buffers allocated since)";
    }

    private static String line(String what, long[] s) {
        return String.format(Locale.ROOT, "%s %d calls, %d B, %d failed, mean %d ns, max %d ns", what,
                s[Tracer.CALLS], s[Tracer.BYTES], s[Tracer.FAILURES],
                s[Tracer.TIMED] == 0 ? 0 : s[Tracer.NANOS] / s[Tracer.TIMED], s[Tracer.MAX]);
    }

    static String json(AgentDispatcher d) {
        StringBuilder b = new StringBuilder();
        b.append("{\"mode\":").append(str(d.options.modeName()));
        b.append(",\"agentFaults\":").append(d.findings.agentFaults());
        if (d.debug != null) {
            b.append(",\"errors\":").append(d.findings.count());
            b.append(",\"outsidePackages\":").append(d.findings.outsidePackages());
            b.append(",\"findings\":[");
            String sep = "";
            for (Findings.Finding f : d.findings.list()) {
                b.append(sep).append("{\"check\":").append(str(f.check())).append(",\"message\":").append(str(f.message()))
                        .append(",\"site\":").append(str(f.site())).append(",\"remedy\":").append(str(f.remedy()))
                        .append(",\"stack\":[");
                String s2 = "";
                for (String frame : f.stack()) {
                    b.append(s2).append(str(frame));
                    s2 = ",";
                }
                b.append("]}");
                sep = ",";
            }
            b.append(']');
        }
        if (d.tracer != null) {
            Tracer t = d.tracer;
            b.append(",\"latencyTimedFirst\":").append(io.dmadirect.agent.bootstrap.DmaHooks.TIME_ALL);
            b.append(",\"latencySampledOneIn\":").append(io.dmadirect.agent.bootstrap.DmaHooks.SAMPLE);
            b.append(",\"alloc\":").append(stats(t.sum(-1, Tracer.ALLOC))).append(",\"free\":")
                    .append(stats(t.sum(-1, Tracer.FREE)));
            for (int kind : Tracer.STREAMING) {
                b.append(",\"").append(KINDS[kind / 6]).append("\":").append(stats(t.sum(-1, kind)));
            }
            long live = d.liveBytes();
            b.append(",\"liveBytes\":").append(live < 0 ? "null" : Long.toString(live)).append(",\"injected\":").append(t.injected.sum());
            b.append(",\"paths\":{");
            String sep = "";
            for (AllocationPath p : AllocationPath.values()) {
                long[] s = t.pathZone(p, null);
                b.append(sep).append(str(p.name())).append(":{\"calls\":").append(s[0]).append(",\"bytes\":")
                        .append(s[1]).append('}');
                sep = ",";
            }
            b.append("},\"zones\":{");
            sep = "";
            for (Zone z : Zone.values()) {
                long[] s = t.pathZone(null, z);
                b.append(sep).append(str(z.name())).append(":{\"calls\":").append(s[0]).append(",\"bytes\":")
                        .append(s[1]).append('}');
                sep = ",";
            }
            b.append("},\"sites\":[");
            sep = "";
            for (int id = 0; id <= CallSites.count(); id++) {
                StringBuilder site = new StringBuilder();
                for (int kind = Tracer.ALLOC; kind <= Tracer.BOUNCE; kind += 6) {
                    long[] k = t.sum(id, kind);
                    if (k[Tracer.CALLS] > 0) {
                        site.append(",\"").append(KINDS[kind / 6]).append("\":").append(stats(k));
                    }
                }
                if (site.length() > 0) {
                    b.append(sep).append("{\"site\":").append(str(CallSites.text(id))).append(site).append('}');
                    sep = ",";
                }
            }
            b.append(']');
        }
        return b.append("}\n").toString();
    }

    private static String stats(long[] s) {
        return "{\"calls\":" + s[Tracer.CALLS] + ",\"bytes\":" + s[Tracer.BYTES] + ",\"failures\":"
                + s[Tracer.FAILURES] + ",\"timedCalls\":" + s[Tracer.TIMED] + ",\"nanos\":" + s[Tracer.NANOS]
                + ",\"maxNanos\":" + s[Tracer.MAX] + "}";
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** The live DMA map, one line per allocation, as {@code dma-api/dump} prints it. */
    static String dump(AgentDispatcher d) {
        StringBuilder b = new StringBuilder();
        if (d.debug == null) {
            b.append("dmadirect-agent: the live DMA map needs mode=debug (running with mode=")
                    .append(d.options.modeName()).append("); counters only:\n");
            return b.append(text(d)).toString();
        }
        List<DebugChecks.Entry> entries = d.debug.liveEntries();
        List<StreamingChecks.Entry> mappings = d.streaming.liveEntries();
        b.append("dmadirect-agent: live DMA map, ").append(entries.size() + mappings.size()).append(" entries (mode=")
                .append(d.options.modeName()).append(")\n");
        for (StreamingChecks.Entry e : mappings) {
            b.append(((DmaDevice) e.device).name()).append(e.sg ? " scatter-gather" : " single").append(" dma_addr=0x")
                    .append(Long.toHexString(e.mapping.dmaAddress())).append(" size=").append(e.mapping.size())
                    .append(' ').append(e.mapping.direction()).append(e.mapping.isBounced() ? " bounced" : " direct")
                    .append(" site=").append(e.mapSite()).append('\n');
        }
        for (DebugChecks.Entry e : entries) {
            b.append(((DmaDevice) e.device).name()).append(" coherent idx ").append(e.buffer.zone())
                    .append(" dma_addr=0x").append(Long.toHexString(e.buffer.dmaAddress())).append(" size=")
                    .append(e.buffer.size()).append(" path=").append(e.buffer.path()).append(" site=")
                    .append(e.allocSite()).append('\n');
        }
        return b.toString();
    }
}
