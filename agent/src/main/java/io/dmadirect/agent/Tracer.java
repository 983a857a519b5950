package io.dmadirect.agent;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMapping;
import io.dmadirect.ScatterList;
import io.dmadirect.Zone;
import io.dmadirect.agent.bootstrap.DmaHooks;
import io.dmadirect.agent.jfr.AllocationEvent;
import io.dmadirect.agent.jfr.BounceEvent;
import io.dmadirect.agent.jfr.FallbackEvent;
import io.dmadirect.agent.jfr.MappingEvent;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Mode {@code trace}: counts, bytes and latency per call site and per allocator path and zone, and the
 * JFR events. Each thread counts into its own plain arrays (no atomic instruction on the hot path); a
 * report sums the threads. Latency is sampled: each thread's first {@link DmaHooks#TIME_ALL} calls
 * are timed, then one in {@link DmaHooks#SAMPLE}.
 */
final class Tracer {
    /**
     * Per site: calls, bytes, failures, timed calls, nanos, max nanos; for alloc, free, map (a scatter list
     * is one call), unmap (per mapping or segment), sync, and for bounces (calls and bytes only: mapped
     * segments served by the bounce pool).
     */
    static final int ALLOC = 0;
    static final int FREE = 6;
    static final int MAP = 12;
    static final int UNMAP = 18;
    static final int SYNC = 24;
    static final int BOUNCE = 30;
    static final int SLOTS = 36;
    static final int[] STREAMING = {MAP, UNMAP, SYNC, BOUNCE};
    static final int CALLS = 0;
    static final int BYTES = 1;
    static final int FAILURES = 2;
    static final int TIMED = 3;
    static final int NANOS = 4;
    static final int MAX = 5;
    private static final int ZONES = Zone.values().length;

    private static final int PATH_ZONES = AllocationPath.values().length * ZONES * 2;

    /**
     * The threads that have counted: each counts into its own {@link DmaHooks.PerThread#traceSites} and
     * {@link DmaHooks.PerThread#tracePathZone}, which only that thread writes.
     */
    private final List<DmaHooks.PerThread> threads = new CopyOnWriteArrayList<>();
    final LongAdder injected = new LongAdder();

    /**
     * The thread's counters, long enough for {@code site}: on the hot path one load and one compare, the thread
     * state the advice already holds typed, so no cast and no second lookup.
     */
    private long[] sites(DmaHooks.PerThread t, int site) {
        long[] s = t.traceSites;
        return (site + 1) * SLOTS <= s.length ? s : grow(t, site);
    }

    /** The thread's first count (it joins {@link #threads}), or a call site beyond its array. */
    private long[] grow(DmaHooks.PerThread t, int site) {
        long[] s = t.traceSites;
        if (s.length == 0) {
            t.tracePathZone = new long[PATH_ZONES];
            threads.add(t);
        }
        s = Arrays.copyOf(s, Math.max(Math.max(s.length * 2, 64 * SLOTS), (site + 1) * SLOTS));
        TRACE_SITES.setRelease(t, s); // a report's acquire load then sees the copied counts
        return s;
    }

    /** A thread's counters as a report on another thread reads them: the array its last growth published. */
    private static long[] published(DmaHooks.PerThread t) {
        return (long[]) TRACE_SITES.getAcquire(t);
    }

    private static final VarHandle TRACE_SITES;

    static {
        try {
            TRACE_SITES = MethodHandles.lookup().findVarHandle(DmaHooks.PerThread.class, "traceSites", long[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    void alloc(Object device, long size, Object result, int site, long startNanos, DmaHooks.PerThread t) {
        long[] s = sites(t, site);
        int i = site * SLOTS + ALLOC;
        s[i + CALLS]++;
        long elapsed = startNanos == 0 ? 0 : System.nanoTime() - startNanos;
        if (startNanos != 0) {
            s[i + TIMED]++;
            s[i + NANOS] += elapsed;
            s[i + MAX] = Math.max(s[i + MAX], elapsed);
        }
        if (result == null) {
            s[i + FAILURES]++;
            jfrAllocation(device, size, null, site, elapsed);
            return;
        }
        DmaBuffer buffer = (DmaBuffer) result;
        s[i + BYTES] += size;
        long[] pz = t.tracePathZone;
        int j = (buffer.path().ordinal() * ZONES + buffer.zone().ordinal()) * 2;
        pz[j]++;
        pz[j + 1] += size;
        jfrAllocation(device, size, buffer, site, elapsed);
    }

    /** A {@code map} or {@code mapSg}: {@code result} is the mapping or the scatter list, null when it failed. */
    void map(Object device, long size, Object result, int site, long startNanos, DmaHooks.PerThread t) {
        long[] s = sites(t, site);
        int i = site * SLOTS + MAP;
        long elapsed = time(s, i, startNanos);
        if (result == null) {
            s[i + FAILURES]++;
            jfrMapping("map", device, size, null, site, elapsed);
            return;
        }
        if (result instanceof DmaMapping) {
            DmaMapping m = (DmaMapping) result;
            s[i + BYTES] += m.size();
            if (m.isBounced()) {
                bounced(s, site, device, m);
            }
            jfrMapping("map", device, m.size(), m, site, elapsed);
            return;
        }
        ScatterList list = (ScatterList) result;
        for (DmaMapping m : list.segments()) {
            s[i + BYTES] += m.size();
            if (m.isBounced()) {
                bounced(s, site, device, m);
            }
        }
        jfrMapping("mapSg", device, list.totalSize(), list.segment(0), site, elapsed);
    }

    private static void bounced(long[] s, int site, Object device, DmaMapping m) {
        int b = site * SLOTS + BOUNCE;
        s[b + CALLS]++;
        s[b + BYTES] += m.size();
        BounceEvent event = new BounceEvent();
        if (event.isEnabled()) {
            event.device = ((DmaDevice) device).name();
            event.size = m.size();
            event.direction = m.direction().name();
            event.callSite = CallSites.text(site);
            event.commit();
        }
    }

    /** An unmap of one mapping or scatter-list segment, or a sync of {@code bytes}. */
    void streaming(int kind, String op, Object mapping, long bytes, boolean failed, int site, long startNanos,
            DmaHooks.PerThread t) {
        long[] s = sites(t, site);
        int i = site * SLOTS + kind;
        long elapsed = time(s, i, startNanos);
        if (failed) {
            s[i + FAILURES]++;
            return;
        }
        s[i + BYTES] += bytes;
        jfrMapping(op, null, bytes, (DmaMapping) mapping, site, elapsed);
    }

    /** A call of the primitive API, or a scatter list's unmap: counted, no JFR event (no mapping object to describe). */
    void counted(int kind, long bytes, boolean failed, int site, long startNanos, DmaHooks.PerThread t) {
        long[] s = sites(t, site);
        int i = site * SLOTS + kind;
        time(s, i, startNanos);
        if (failed) {
            s[i + FAILURES]++;
        } else {
            s[i + BYTES] += bytes;
        }
    }

    /** Counts the call and, when it was timed, its latency; the latency, or 0. */
    private static long time(long[] s, int i, long startNanos) {
        s[i + CALLS]++;
        if (startNanos == 0) {
            return 0;
        }
        long elapsed = System.nanoTime() - startNanos;
        s[i + TIMED]++;
        s[i + NANOS] += elapsed;
        s[i + MAX] = Math.max(s[i + MAX], elapsed);
        return elapsed;
    }

    /** A JFR {@code Mapping} event ({@code m} null for a failed map; the first segment of a scatter list); latency 0 when not timed. */
    private static void jfrMapping(String op, Object device, long size, DmaMapping m, int site, long elapsed) {
        MappingEvent event = new MappingEvent();
        if (event.isEnabled()) {
            event.operation = op;
            event.device = ((DmaDevice) (device != null ? device : m.device())).name();
            event.size = size;
            if (m != null) {
                event.dmaAddress = m.dmaAddress();
                event.direction = m.direction().name();
                event.bounced = m.isBounced();
            }
            event.callSite = CallSites.text(site);
            event.latency = elapsed;
            event.commit();
        }
    }

    void free(Object buffer, boolean failed, int site, long startNanos, DmaHooks.PerThread t) {
        long[] s = sites(t, site);
        int i = site * SLOTS + FREE;
        s[i + CALLS]++;
        if (startNanos != 0) {
            long elapsed = System.nanoTime() - startNanos;
            s[i + TIMED]++;
            s[i + NANOS] += elapsed;
            s[i + MAX] = Math.max(s[i + MAX], elapsed);
        }
        if (failed) {
            s[i + FAILURES]++;
        } else {
            s[i + BYTES] += ((DmaBuffer) buffer).size();
        }
    }

    /** The six counters of one kind ({@link #ALLOC}, {@link #FREE}, {@link #MAP}...) at one site, summed over threads; site -1 sums all sites. */
    long[] sum(int site, int kind) {
        long[] total = new long[6];
        for (DmaHooks.PerThread ts : threads) {
            long[] s = published(ts);
            int from = site < 0 ? 0 : site;
            int to = site < 0 ? s.length / SLOTS : Math.min(site + 1, s.length / SLOTS);
            for (int k = from; k < to; k++) {
                int i = k * SLOTS + kind;
                for (int c = 0; c < MAX; c++) {
                    total[c] += s[i + c];
                }
                total[MAX] = Math.max(total[MAX], s[i + MAX]);
            }
        }
        return total;
    }

    /** {@link #sum} over the call sites whose text starts with {@code prefix} (site 0, "unknown", never matches). */
    long[] sumAt(String prefix, int kind) {
        long[] total = new long[6];
        for (int site = 1; site <= CallSites.count(); site++) {
            if (CallSites.text(site).startsWith(prefix)) {
                long[] s = sum(site, kind);
                for (int c = 0; c < MAX; c++) {
                    total[c] += s[c];
                }
                total[MAX] = Math.max(total[MAX], s[MAX]);
            }
        }
        return total;
    }

    /** Calls and bytes of successful allocations per path (index 0) or zone (index 1). */
    long[] pathZone(AllocationPath path, Zone zone) {
        long[] total = new long[2];
        for (DmaHooks.PerThread ts : threads) {
            for (AllocationPath p : AllocationPath.values()) {
                for (Zone z : Zone.values()) {
                    if ((path == null || p == path) && (zone == null || z == zone)) {
                        int j = (p.ordinal() * ZONES + z.ordinal()) * 2;
                        total[0] += ts.tracePathZone[j];
                        total[1] += ts.tracePathZone[j + 1];
                    }
                }
            }
        }
        return total;
    }

    long liveBytes() {
        return sum(-1, ALLOC)[BYTES] - sum(-1, FREE)[BYTES];
    }

    private static void jfrAllocation(Object device, long size, DmaBuffer buffer, int site, long elapsed) {
        AllocationEvent event = new AllocationEvent();
        if (event.isEnabled()) {
            event.device = ((DmaDevice) device).name();
            event.size = size;
            event.failed = buffer == null;
            if (buffer != null) {
                event.allocatedSize = buffer.allocatedSize();
                event.dmaAddress = buffer.dmaAddress();
                event.path = buffer.path().name();
                event.zone = buffer.zone().name();
            }
            event.callSite = CallSites.text(site);
            event.latency = elapsed;
            event.commit();
        }
        if (buffer != null) {
            FallbackEvent fallback = new FallbackEvent();
            if (fallback.isEnabled()) {
                AllocationReport report = buffer.report();
                if (report.zone() != report.optimalZone() || !report.steps().isEmpty()) {
                    fallback.device = ((DmaDevice) device).name();
                    fallback.optimalZone = report.optimalZone().name();
                    fallback.zone = report.zone().name();
                    fallback.path = report.path().name();
                    fallback.steps = String.join("; ", report.steps());
                    fallback.callSite = CallSites.text(site);
                    fallback.commit();
                }
            }
        }
    }
}
