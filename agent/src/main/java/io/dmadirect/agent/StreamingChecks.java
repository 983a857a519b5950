package io.dmadirect.agent;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMapping;
import io.dmadirect.ScatterList;
import io.dmadirect.agent.bootstrap.DmaHooks;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Mode {@code debug} for the streaming API: {@code check_unmap()} and {@code check_sync()} of the
 * kernel's {@code kernel/dma/debug.c}, its leak report, and its "failed to check map error" (in Java a
 * failed map throws, so the analogue is a driver that catches the exception and swallows it in an empty
 * handler, or carries on with the earlier mapping its variable still holds). Every live
 * mapping has an entry (device, size, direction, single or scatter-gather, call site, stack).
 *
 * <p>The typed API rules out some of dma-debug's checks: {@code unmap(DmaMapping)} takes the mapping
 * itself, which carries its size and direction, so an unmap with the wrong size or direction cannot be
 * written; a {@code ScatterList} comes only from {@code mapSg}, so a single mapping cannot be unmapped as
 * scatter-gather. The reverse, a scatter-gather segment unmapped as single, can, and is checked. The core
 * refuses most misuse with a {@code DmaUsageException} already; the agent adds the report with the call
 * site, the stack, and where the mapping was made and first unmapped, and counts it for {@code failOnError}.
 */
final class StreamingChecks {
    /** One live mapping (a single mapping, or one segment of a scatter list). */
    static final class Entry implements OverlapCheck.Described, LiveTable.Keyed {
        final DmaMapping mapping;
        final Object device;
        final boolean sg;
        final int site;
        final StackTraceElement[] stack;
        int unmapSite;
        StackTraceElement[] unmapStack;
        /** Its first cache line in the overlap index, null when not indexed. */
        ActiveCacheLines.Span span;

        Entry(DmaMapping mapping, Object device, boolean sg, int site, StackTraceElement[] stack) {
            this.mapping = mapping;
            this.device = device;
            this.sg = sg;
            this.site = site;
            this.stack = stack;
        }

        @Override
        public Object key() {
            return mapping;
        }

        @Override
        public String mapSite() {
            return site != 0 ? CallSites.text(site) : Stacks.siteOf(stack);
        }

        @Override
        public boolean bounced() {
            return mapping.isBounced();
        }

        @Override
        public String describe() {
            return "[device=" + ((DmaDevice) device).name() + "] [device address=0x"
                    + Long.toHexString(mapping.dmaAddress()) + "] [size=" + mapping.size() + " bytes] [mapped as "
                    + (sg ? "scatter-gather" : "single") + "] [" + mapping.direction() + "] ["
                    + (mapping.isBounced() ? "bounced" : "direct") + "]";
        }
    }

    /** A map error a driver handler caught, until the driver acts on it. */
    record PendingError(Throwable error, int mapSite, int handlerSite) {
    }

    private final AgentOptions options;
    private final Findings findings;
    private final boolean trackedFromStart;
    final LiveTable<Entry> live = new LiveTable<>();
    private final ReleaseHistory history;
    final OverlapCheck overlaps;

    StreamingChecks(AgentOptions options, Findings findings, boolean trackedFromStart, ReleaseHistory history) {
        this.options = options;
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.history = history;
        this.overlaps = new OverlapCheck(findings);
    }

    /**
     * {@code debug_dma_map_page()} and {@code debug_dma_map_sg()}: an entry per mapping or segment, and its first
     * cache line indexed. {@code what} is what was mapped (a buffer, an array from {@code offset}, a list of buffers).
     */
    void mapped(Object device, Object what, int offset, int attrs, Object result, int site) {
        StackTraceElement[] stack = stackOf(site);
        if (result instanceof DmaMapping) {
            DmaMapping m = (DmaMapping) result;
            Entry entry = new Entry(m, device, false, site, stack);
            live.put(entry);
            if (options.staleReads) {
                StaleReads.poisonBeforeSync(what, m);
            }
            if (m.direction() == io.dmadirect.DmaDirection.TO_DEVICE) {
                return; // never indexed: skip finding the memory (the common transmit path stays cheap)
            }
            if (what instanceof ByteBuffer) {
                ByteBuffer b = (ByteBuffer) what;
                entry.span = overlaps.add(device, BufferMemory.base(b), BufferMemory.start(b, b.position()), m.size(),
                        m.direction(), attrs, entry, site);
            } else if (what instanceof byte[]) {
                entry.span = overlaps.add(device, what, offset, m.size(), m.direction(), attrs, entry, site);
            }
        } else if (result instanceof ScatterList) {
            List<DmaMapping> segments = ((ScatterList) result).segments();
            List<?> buffers = what instanceof List ? (List<?>) what : List.of();
            for (int i = 0; i < segments.size(); i++) {
                DmaMapping m = segments.get(i);
                Entry entry = new Entry(m, device, true, site, stack);
                live.put(entry);
                if (segments.size() == buffers.size() && buffers.get(i) instanceof ByteBuffer) {
                    ByteBuffer b = (ByteBuffer) buffers.get(i);
                    entry.span = overlaps.add(device, BufferMemory.base(b), BufferMemory.start(b, b.position()),
                            m.size(), m.direction(), attrs, entry, site);
                }
            }
        }
    }

    StackTraceElement[] stackOf(int site) {
        CallSites.Site s = CallSites.get(site);
        if (s == null || options.stackPerAllocation) {
            return Stacks.capture();
        }
        StackTraceElement[] stack = s.stack;
        if (stack == null) {
            stack = Stacks.capture();
            s.stack = stack;
        }
        return stack;
    }

    /** {@code check_unmap()}: {@code device} is null for {@code mapping.close()}; {@code sgList} non-null inside a scatter list's close. */
    void beforeUnmap(Object device, Object arg, int site, Object sgList, DmaHooks.PerThread thread) {
        DmaMapping mapping = arg instanceof DmaMapping ? (DmaMapping) arg : null;
        // One removal, put back on the rare error: a lookup then a removal would hash twice per unmap.
        Entry entry = mapping == null ? null : live.remove(mapping);
        Object through = device != null ? device : mapping != null ? mapping.device() : null;
        if (entry == null) {
            notLive(through, mapping, arg, site, "free", "unmap");
            return;
        }
        if (through != entry.device) {
            live.put(entry); // the library refuses this unmap: the mapping stays mapped
            findings.report("unmap-different-device", "device driver frees DMA memory with different device "
                    + entry.describe() + " [unmapped through device=" + name(through) + "]\n  mapped at: "
                    + entry.mapSite(), siteText(site), Stacks.capture(),
                    "unmap through the device that mapped it (mapping.close() does)");
            return;
        }
        if (entry.sg && sgList == null) {
            findings.report("unmap-wrong-function", "device driver frees DMA memory with wrong function "
                    + entry.describe() + " [unmapped as single]\n  mapped at: " + entry.mapSite(), siteText(site),
                    Stacks.capture(), "unmap a scatter list as a whole with ScatterList.close() (dma_unmap_sg),"
                    + " never one of its segments");
        }
        overlaps.remove(entry.span);
        entry.unmapSite = site;
        entry.unmapStack = site == 0 ? Stacks.capture() : null;
        history.add(thread, entry);
    }

    /** {@code dma_unmap_sg} of a list already unmapped: the kernel's lookup of its first segment fails as for a single one. */
    void beforeUnmapSg(Object arg, int site) {
        ScatterList list = arg instanceof ScatterList ? (ScatterList) arg : null;
        if (list != null && list.isUnmapped() && list.count() > 0) {
            DmaMapping first = list.segment(0);
            notLive(first.device(), first, first, site, "free", "unmap");
        }
    }

    /** {@code check_sync()}. {@code length} -1 is the whole mapping. */
    void beforeSync(Object device, Object arg, long offset, long length, Object dir, boolean forCpu, int site) {
        DmaMapping mapping = arg instanceof DmaMapping ? (DmaMapping) arg : null;
        Entry entry = mapping == null ? null : live.get(mapping);
        if (entry == null) {
            notLive(device, mapping, arg, site, "sync", "sync");
            return;
        }
        String what = forCpu ? "syncForCpu" : "syncForDevice";
        if (device != entry.device) {
            findings.report("sync-different-device", "device driver syncs DMA memory with different device "
                    + entry.describe() + " [synced through device=" + name(device) + "]\n  mapped at: "
                    + entry.mapSite(), siteText(site), Stacks.capture(),
                    "sync through the device that mapped it (mapping." + what + "() does)");
            return;
        }
        long len = length < 0 ? mapping.size() : length;
        if (offset < 0 || len < 1 || offset > mapping.size() - len) {
            findings.report("sync-outside", "device driver syncs DMA memory outside allocated range "
                    + entry.describe() + " [sync offset+size=" + offset + "+" + len + "]\n  mapped at: "
                    + entry.mapSite(), siteText(site), Stacks.capture(),
                    "sync only [offset, offset + length) inside the mapping's " + mapping.size() + " bytes");
        }
        // check_sync(): a BIDIRECTIONAL mapping may be synced in any direction.
        if (mapping.direction() != io.dmadirect.DmaDirection.BIDIRECTIONAL && dir != mapping.direction()) {
            findings.report("sync-direction", "device driver syncs DMA memory with different direction "
                    + entry.describe() + " [mapped with " + mapping.direction() + "] [synced with " + dir
                    + "]\n  mapped at: " + entry.mapSite(), siteText(site), Stacks.capture(),
                    "sync with the direction the buffer was mapped with (mapping." + what + "() does)");
        }
    }

    private void notLive(Object device, DmaMapping mapping, Object arg, int site, String verb, String op) {
        Entry gone = mapping == null ? null : (Entry) history.find(mapping);
        if (gone != null || (mapping != null && mapping.isUnmapped())) {
            String first = gone == null ? "unknown (unmapped long ago)" : gone.unmapSite != 0
                    ? CallSites.text(gone.unmapSite) : Stacks.siteOf(gone.unmapStack);
            String check = op.equals("unmap") ? "double-unmap" : "sync-unmapped";
            findings.report(check, "device driver tries to " + verb + " DMA memory it has not allocated: it was"
                    + " already unmapped" + (op.equals("unmap") ? " (double unmap) " : " ")
                    + (gone != null ? gone.describe() : String.valueOf(mapping)) + "\n  first unmapped at: " + first
                    + (gone != null ? "\n  mapped at: " + gone.mapSite() : ""), siteText(site), Stacks.capture(),
                    op.equals("unmap") ? "unmap each mapping once; drop the reference after close(), or own it in one"
                            + " try-with-resources" : "sync only while the mapping is mapped; map again for the next"
                            + " transfer");
            return;
        }
        if (mapping != null && !trackedFromStart) {
            return; // mapped before the agent attached
        }
        findings.report(op + "-not-mapped", "device driver tries to " + verb + " DMA memory it has not allocated"
                + " [object=" + arg + "] [device=" + name(device) + "]", siteText(site), Stacks.capture(),
                "pass only mappings that map() or mapSg() of the same device returned");
    }

    /**
     * A driver handler caught a map error. An empty handler ({@code catch (DmaMappingException e) {}})
     * swallows it: reported at once. Any other handler may act on it (a fallback, a count of drops);
     * it is watched until the thread maps again or rethrows it.
     */
    void mapErrorCaught(DmaHooks.PerThread t) {
        if (CallSites.isEmptyHandler(t.mapErrorCaught)) {
            reportUnchecked(t.mapError, t.mapErrorSite, t.mapErrorCaught, "the handler is empty: the error is"
                    + " swallowed, and the transfer silently lost", Stacks.cut(t.mapError.getStackTrace()));
            mapErrorHandled(t);
        }
    }

    void mapErrorHandled(DmaHooks.PerThread t) {
        t.mapError = null;
        t.mapErrorSite = 0;
        t.mapErrorCaught = 0;
    }

    /**
     * {@code MAP_ERR_NOT_CHECKED}: while a map error the driver caught is pending (no new map, no rethrow),
     * it syncs or unmaps a mapping that is no longer mapped: it carries on with an earlier mapping, the
     * stale value its variable kept when the map threw. True when reported (the plain sync or unmap
     * check is then not repeated).
     */
    boolean beforeStreamingUse(DmaHooks.PerThread t, String op, Object mapping, int site) {
        boolean carriedOn = t.mapErrorCaught != 0 && mapping instanceof DmaMapping
                && !live.containsKey(mapping) && ((DmaMapping) mapping).isUnmapped();
        if (carriedOn) {
            reportUnchecked(t.mapError, t.mapErrorSite, t.mapErrorCaught, "then went on to " + op + " at "
                    + siteText(site) + " an earlier mapping that is no longer mapped ("
                    + mapping + "), as if the map had given it one", Stacks.capture());
        }
        mapErrorHandled(t);
        return carriedOn;
    }

    /** The primitive API's form of {@link #beforeStreamingUse}: an address no live mapping holds. */
    void reportCarriedOn(DmaHooks.PerThread t, String op, String what, int site) {
        reportUnchecked(t.mapError, t.mapErrorSite, t.mapErrorCaught, "then went on to " + op + " at "
                + siteText(site) + " " + what + ", which no live mapping holds, as if the map had given it",
                Stacks.capture());
        mapErrorHandled(t);
    }

    private void reportUnchecked(Throwable error, int mapSite, int handlerSite, String then,
            StackTraceElement[] stack) {
        findings.report("map-error-not-checked", "device driver failed to check map error: the DmaMappingException"
                + " of the map at " + CallSites.text(mapSite) + " was caught at " + CallSites.text(handlerSite)
                + ", and " + then + "\n  map error: " + error.getMessage(), CallSites.text(handlerSite), stack,
                "act on a failed map: rethrow it (or wrap it as the cause), retry, or fall back (drop the"
                + " transfer and count it, or copy into coherent memory); never go on with an earlier mapping");
    }

    /** Before a device's {@code close()}: the mappings the driver left. */
    void beforeClose(Object device, int site) {
        List<Entry> leaked = live.removeIf(entry -> entry.device == device);
        for (Entry entry : leaked) {
            overlaps.remove(entry.span);
        }
        reportLeaks(leaked, "device driver has pending DMA mappings while released from device [device="
                + name(device) + "] [count=" + leaked.size() + "]", siteText(site), "leak-at-close");
    }

    void atExit() {
        List<Entry> leaked = live.values();
        reportLeaks(leaked, "device driver has pending DMA mappings at exit [count=" + leaked.size() + "]",
                "exit of the JVM", "leak-at-exit");
    }

    private void reportLeaks(List<Entry> leaked, String what, String where, String check) {
        for (int i = 0; i < leaked.size(); i++) {
            Entry entry = leaked.get(i);
            findings.report(check, what + "\n  leaked entry " + (i + 1) + " of " + leaked.size() + ": "
                    + entry.describe() + "\n  released at: " + where, entry.mapSite(), entry.stack,
                    "unmap every mapping on the driver's completion and remove paths (close() each DmaMapping"
                    + " and ScatterList before the device)");
        }
    }

    List<Entry> liveEntries() {
        return live.values();
    }

    private static String name(Object device) {
        return device instanceof DmaDevice ? ((DmaDevice) device).name() : String.valueOf(device);
    }

    private static String siteText(int site) {
        return DebugChecks.siteText(site);
    }
}
