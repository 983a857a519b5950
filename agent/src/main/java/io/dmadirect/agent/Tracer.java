package io.dmadirect.agent;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.Zone;
import io.dmadirect.agent.jfr.AllocationEvent;
import io.dmadirect.agent.jfr.FallbackEvent;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * Mode {@code trace}: counts, bytes and latency per call site, per allocator path and per zone, and the
 * JFR events. Counters are {@link LongAdder}s, so threads do not contend on one cache line.
 */
final class Tracer {
    /** Calls, bytes, failures and time of one kind of call. */
    static final class Stats {
        final LongAdder calls = new LongAdder();
        final LongAdder bytes = new LongAdder();
        final LongAdder failures = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAccumulator maxNanos = new LongAccumulator(Math::max, 0);

        void add(long size, long elapsed, boolean failed) {
            calls.increment();
            if (failed) {
                failures.increment();
            } else {
                bytes.add(size);
            }
            nanos.add(elapsed);
            if (elapsed > maxNanos.get()) {
                maxNanos.accumulate(elapsed);
            }
        }
    }

    /** What one call site did. */
    static final class SiteStats {
        final Stats alloc = new Stats();
        final Stats free = new Stats();
        final Stats map = new Stats();
        final Stats unmap = new Stats();
    }

    final Stats allocs = new Stats();
    final Stats frees = new Stats();
    final Stats maps = new Stats();
    final Stats unmaps = new Stats();
    final LongAdder injected = new LongAdder();
    final LongAdder bounces = new LongAdder();
    final LongAdder liveBytes = new LongAdder();
    final Stats[] byPath = newStats(AllocationPath.values().length);
    final Stats[] byZone = newStats(Zone.values().length);
    private final SiteStats unknownSite = new SiteStats();

    SiteStats site(int id) {
        CallSites.Site site = CallSites.get(id);
        return site == null ? unknownSite : (SiteStats) site.stats;
    }

    SiteStats unknownSite() {
        return unknownSite;
    }

    void alloc(Object device, long size, Object result, int site, long startNanos) {
        long elapsed = System.nanoTime() - startNanos;
        boolean failed = result == null;
        allocs.add(size, elapsed, failed);
        site(site).alloc.add(size, elapsed, failed);
        if (failed) {
            jfrAllocation(device, size, null, site, elapsed);
            return;
        }
        DmaBuffer buffer = (DmaBuffer) result;
        liveBytes.add(size);
        byPath[buffer.path().ordinal()].add(size, elapsed, false);
        byZone[buffer.zone().ordinal()].add(size, elapsed, false);
        jfrAllocation(device, size, buffer, site, elapsed);
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

    void free(Object buffer, boolean failed, int site, long startNanos) {
        long elapsed = System.nanoTime() - startNanos;
        long size = failed ? 0 : ((DmaBuffer) buffer).size();
        frees.add(size, elapsed, failed);
        site(site).free.add(size, elapsed, failed);
        if (!failed) {
            liveBytes.add(-size);
        }
    }

    private static Stats[] newStats(int n) {
        Stats[] stats = new Stats[n];
        for (int i = 0; i < n; i++) {
            stats[i] = new Stats();
        }
        return stats;
    }
}
