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
        if (d.debug != null) {
            List<Findings.Finding> list = d.findings.list();
            b.append("debug: ").append(d.findings.count()).append(d.findings.count() == 1 ? " error" : " errors");
            if (d.findings.outsidePackages() > 0) {
                b.append(" (").append(d.findings.outsidePackages()).append(" more outside packages=, not reported)");
            }
            b.append(list.isEmpty() ? ": clean\n" : "\n");
            for (Findings.Finding f : list) {
                b.append(f.render());
            }
        }
        if (d.tracer != null) {
            Tracer t = d.tracer;
            b.append("trace: ").append(line("alloc", t.allocs)).append(", ").append(line("free", t.frees))
                    .append(", live ").append(t.liveBytes.sum()).append(" B, injected ").append(t.injected.sum())
                    .append('\n');
            for (AllocationPath p : AllocationPath.values()) {
                Tracer.Stats s = t.byPath[p.ordinal()];
                if (s.calls.sum() > 0) {
                    b.append("  path ").append(p).append(": ").append(line("alloc", s)).append('\n');
                }
            }
            for (Zone z : Zone.values()) {
                Tracer.Stats s = t.byZone[z.ordinal()];
                if (s.calls.sum() > 0) {
                    b.append("  zone ").append(z).append(": ").append(line("alloc", s)).append('\n');
                }
            }
            for (CallSites.Site site : CallSites.all()) {
                Tracer.SiteStats s = (Tracer.SiteStats) site.stats;
                if (s.alloc.calls.sum() + s.free.calls.sum() > 0) {
                    b.append("  site ").append(site.text).append(": ").append(line("alloc", s.alloc)).append(", ")
                            .append(line("free", s.free)).append('\n');
                }
            }
            Tracer.SiteStats u = t.unknownSite();
            if (u.alloc.calls.sum() + u.free.calls.sum() > 0) {
                b.append("  site ").append(CallSites.UNKNOWN).append(": ").append(line("alloc", u.alloc)).append(", ")
                        .append(line("free", u.free)).append('\n');
            }
        }
        return b.toString();
    }

    private static String line(String what, Tracer.Stats s) {
        long calls = s.calls.sum();
        return String.format(Locale.ROOT, "%s %d calls, %d B, %d failed, mean %d ns, max %d ns", what, calls,
                s.bytes.sum(), s.failures.sum(), calls == 0 ? 0 : s.nanos.sum() / calls, s.maxNanos.get());
    }

    static String json(AgentDispatcher d) {
        StringBuilder b = new StringBuilder();
        b.append("{\"mode\":").append(str(d.options.modeName()));
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
            b.append(",\"alloc\":").append(stats(t.allocs)).append(",\"free\":").append(stats(t.frees));
            b.append(",\"liveBytes\":").append(t.liveBytes.sum()).append(",\"injected\":").append(t.injected.sum());
            b.append(",\"paths\":{");
            String sep = "";
            for (AllocationPath p : AllocationPath.values()) {
                b.append(sep).append(str(p.name())).append(':').append(stats(t.byPath[p.ordinal()]));
                sep = ",";
            }
            b.append("},\"zones\":{");
            sep = "";
            for (Zone z : Zone.values()) {
                b.append(sep).append(str(z.name())).append(':').append(stats(t.byZone[z.ordinal()]));
                sep = ",";
            }
            b.append("},\"sites\":[");
            sep = "";
            for (CallSites.Site site : CallSites.all()) {
                Tracer.SiteStats s = (Tracer.SiteStats) site.stats;
                b.append(sep).append("{\"site\":").append(str(site.text)).append(",\"alloc\":").append(stats(s.alloc))
                        .append(",\"free\":").append(stats(s.free)).append('}');
                sep = ",";
            }
            Tracer.SiteStats u = t.unknownSite();
            b.append(sep).append("{\"site\":").append(str(CallSites.UNKNOWN)).append(",\"alloc\":").append(stats(u.alloc))
                    .append(",\"free\":").append(stats(u.free)).append("}]");
        }
        return b.append("}\n").toString();
    }

    private static String stats(Tracer.Stats s) {
        return "{\"calls\":" + s.calls.sum() + ",\"bytes\":" + s.bytes.sum() + ",\"failures\":" + s.failures.sum()
                + ",\"nanos\":" + s.nanos.sum() + ",\"maxNanos\":" + s.maxNanos.get() + "}";
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
        b.append("dmadirect-agent: live DMA map, ").append(entries.size()).append(" entries (mode=")
                .append(d.options.modeName()).append(")\n");
        for (DebugChecks.Entry e : entries) {
            b.append(((DmaDevice) e.device).name()).append(" coherent idx ").append(e.buffer.zone())
                    .append(" dma_addr=0x").append(Long.toHexString(e.buffer.dmaAddress())).append(" size=")
                    .append(e.buffer.size()).append(" path=").append(e.buffer.path()).append(" site=")
                    .append(e.allocSite()).append('\n');
        }
        return b.toString();
    }
}
