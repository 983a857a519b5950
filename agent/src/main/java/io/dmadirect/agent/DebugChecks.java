package io.dmadirect.agent;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaUsageException;
import io.dmadirect.agent.bootstrap.DmaHooks;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mode {@code debug}: the checks of the kernel's {@code kernel/dma/debug.c} for coherent memory. Every
 * live allocation has an entry (its device, size, call site and stack), as dma-debug keeps its hash of
 * {@code dma_debug_entry}. Freed memory is poisoned and held in a small quarantine before the real free,
 * so a write through a stale CPU view is seen when the quarantine lets it go.
 */
final class DebugChecks {
    /** {@code POOL_POISON_FREED} of mm/dmapool.c. */
    static final byte POISON = (byte) 0xa7;
    /** Only the first bytes of a large buffer are poisoned and checked, to bound the cost. */
    static final int POISON_LIMIT = 16 * 1024;
    private static final ByteBuffer POISON_PATTERN = poisonPattern();

    /** One allocation the driver made. */
    static final class Entry implements LiveTable.Keyed {
        final DmaBuffer buffer;
        final Object device;
        final int site;
        final StackTraceElement[] stack;
        /** The pool this is a page of, null for the driver's own allocation. */
        final PoolChecks.Creation pool;
        int freeSite;
        StackTraceElement[] freeStack;
        ByteBuffer poisoned;

        Entry(DmaBuffer buffer, Object device, int site, StackTraceElement[] stack, PoolChecks.Creation pool) {
            this.buffer = buffer;
            this.device = device;
            this.site = site;
            this.stack = stack;
            this.pool = pool;
        }

        @Override
        public Object key() {
            return buffer;
        }

        String allocSite() {
            return pool != null ? pool.site() : site != 0 ? CallSites.text(site) : Stacks.siteOf(stack);
        }

        String describe() {
            return "[device=" + ((DmaDevice) device).name() + "] [device address=0x" + Long.toHexString(buffer.dmaAddress())
                    + "] [size=" + buffer.size() + " bytes] [" + buffer.path() + " from " + buffer.zone() + "]";
        }
    }

    private final AgentOptions options;
    private final Findings findings;
    private final boolean trackedFromStart;
    final LiveTable<Entry> live = new LiveTable<>();
    private final ReleaseHistory history;
    /** Capped by bytes too ({@code quarantineBytes=}), so poisoning cannot exhaust a small zone. */
    private final Quarantine<Entry> quarantine;

    /** @param trackedFromStart false after a dynamic attach: buffers allocated before it are unknown, not errors */
    DebugChecks(AgentOptions options, Findings findings, boolean trackedFromStart, ReleaseHistory history) {
        this.options = options;
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.history = history;
        this.quarantine = new Quarantine<>(options.quarantine, options.quarantineBytes, e -> e.buffer,
                e -> e.buffer.size());
    }

    /** @param pool the creation of the pool this is a page of, or null for the driver's own allocation */
    void allocated(Object device, Object result, int site, PoolChecks.Creation pool) {
        DmaBuffer buffer = (DmaBuffer) result;
        StackTraceElement[] stack;
        CallSites.Site s = CallSites.get(site);
        if (pool != null) {
            stack = pool.stack();
        } else if (s == null || options.stackPerAllocation) {
            stack = Stacks.capture();
        } else {
            stack = s.stack;
            if (stack == null) {
                stack = Stacks.capture();
                s.stack = stack;
            }
        }
        live.put(new Entry(buffer, device, site, stack, pool));
    }

    /** Before {@code freeCoherent}: null to let it run, {@link DmaHooks#SKIP} for quarantine, or an exception. */
    Throwable beforeFree(Object device, Object arg, int site, DmaHooks.PerThread thread) {
        DmaBuffer buffer = arg instanceof DmaBuffer ? (DmaBuffer) arg : null;
        // One removal, put back on the rare error: a lookup then a removal would hash twice per free.
        Entry entry = buffer == null ? null : live.remove(buffer);
        if (entry == null) {
            return notLive(device, buffer, arg, site);
        }
        if (entry.device != device) {
            live.put(entry); // the library refuses this free: the buffer stays allocated
            findings.report("free-different-device", "device driver frees DMA memory with different device "
                    + entry.describe() + " [freed through device=" + ((DmaDevice) device).name() + "]",
                    siteText(site), Stacks.capture(), "free the buffer through the device that allocated it"
                    + " (buffer.close() does)");
            return null;
        }
        entry.freeSite = site;
        entry.freeStack = site == 0 ? Stacks.capture() : null;
        history.add(thread, entry);
        if (!options.poison || !quarantine.admits(buffer.size()) || !buffer.hasCpuView()) {
            return null;
        }
        ByteBuffer view = buffer.cpuView().order(ByteOrder.nativeOrder());
        fill(view);
        entry.poisoned = view;
        for (Entry e : quarantine.add(entry)) {
            release(e);
        }
        return DmaHooks.SKIP;
    }

    /**
     * An allocation failed: frees everything in quarantine, so that memory the driver has freed is free again
     * (the agent must not make a correct driver run out). True when something was freed, and the allocation
     * is worth trying again.
     */
    boolean drainQuarantine() {
        return quarantine.drain(this::release);
    }

    private Throwable notLive(Object device, DmaBuffer buffer, Object arg, int site) {
        Entry freed = buffer == null ? null : (Entry) history.find(buffer);
        boolean inQuarantine = buffer != null && quarantine.contains(buffer);
        if (freed != null || (buffer != null && buffer.isFreed())) {
            String first = freed == null ? "unknown (freed long ago)" : freed.freeSite != 0
                    ? CallSites.text(freed.freeSite) : Stacks.siteOf(freed.freeStack);
            findings.report("double-free", "device driver tries to free DMA memory it has not allocated: it was"
                    + " already freed (double free) " + (freed != null ? freed.describe() : String.valueOf(buffer))
                    + "\n  first freed at: " + first
                    + (freed != null ? "\n  allocated at: " + freed.allocSite() : ""),
                    siteText(site), Stacks.capture(), "free each buffer once; drop the reference after close(),"
                    + " or own it in one try-with-resources");
            if (inQuarantine) {
                // The library has not seen the first free yet, so it would not refuse: refuse as it would.
                return new DmaUsageException("failed to free " + buffer + ": it was already freed (double free)");
            }
            return null;
        }
        if (buffer != null && !trackedFromStart) {
            return null; // allocated before the agent attached
        }
        findings.report("free-not-allocated", "device driver tries to free DMA memory it has not allocated"
                + " [object=" + arg + "] [device=" + ((DmaDevice) device).name() + "]",
                siteText(site), Stacks.capture(), "pass freeCoherent() only buffers that allocCoherent() of the same"
                + " device returned, not a wrapper or a copy");
        return null;
    }

    /** Checks the poison of a quarantined buffer, then frees it for real. */
    private void release(Entry entry) {
        checkPoison(entry);
        Quarantine.freeForReal(() -> ((DmaDevice) entry.device).freeCoherent(entry.buffer));
    }

    private void checkPoison(Entry entry) {
        ByteBuffer view = entry.poisoned;
        int i = poisonMismatch(view);
        if (i >= 0) {
            findings.report("write-after-free", "device driver wrote to DMA memory after freeing it "
                    + entry.describe() + " [offset=" + i + ": 0x" + Integer.toHexString(view.get(i) & 0xff)
                    + " instead of poison 0xa7]\n  allocated at: " + entry.allocSite() + "\n  freed at: "
                    + (entry.freeSite != 0 ? CallSites.text(entry.freeSite) : Stacks.siteOf(entry.freeStack)),
                    entry.allocSite(), entry.stack, "stop using the buffer's CPU view (and the DMA address) once"
                    + " the buffer is freed; a device may still have been writing: quiesce it before freeing");
        }
    }

    /** The first byte of {@code view}'s poisoned head that is no longer poison, or -1. */
    static int poisonMismatch(ByteBuffer view) {
        int limit = Math.min(view.capacity(), POISON_LIMIT);
        return view.slice(0, limit).mismatch(POISON_PATTERN.slice(0, limit));
    }

    /** Poisons the head of {@code view} (at most {@link #POISON_LIMIT} bytes, to bound the cost). */
    static void fill(ByteBuffer view) {
        view.put(0, POISON_PATTERN, 0, Math.min(view.capacity(), POISON_LIMIT));
    }

    private static ByteBuffer poisonPattern() {
        ByteBuffer pattern = ByteBuffer.allocateDirect(POISON_LIMIT);
        while (pattern.hasRemaining()) {
            pattern.put(POISON);
        }
        return pattern.clear().asReadOnlyBuffer();
    }

    /** Before a device's {@code close()}: lets its quarantine go, then reports what the driver left allocated. */
    void beforeClose(Object device, int site) {
        releaseQuarantine(device);
        List<Entry> leaked = live.removeIf(entry -> entry.device == device);
        String where = siteText(site);
        leaked = undestroyedPools(leaked, "while released from device [device=" + ((DmaDevice) device).name() + "]", where);
        reportLeaks(leaked, "device driver has pending DMA allocations while released from device [device="
                + ((DmaDevice) device).name() + "] [count=" + leaked.size() + "]", where);
    }

    /** At exit: what is still allocated, and the poison of what is still in quarantine. */
    void atExit() {
        for (Entry entry : quarantine.snapshot()) {
            checkPoison(entry);
        }
        List<Entry> leaked = undestroyedPools(live.values(), "at exit", "exit of the JVM");
        reportLeaks(leaked, "device driver has pending DMA allocations at exit [count=" + leaked.size() + "]",
                "exit of the JVM");
    }

    /**
     * The pages of pools never destroyed, reported once per pool at its {@code createPool} call site (the
     * kernel's dma-debug sees a pool's pages as its coherent allocations pending at unbind; they were allocated
     * inside {@code dma_pool_alloc()}, not by the driver's line that happened to need a new page). Returns the
     * driver's own allocations, the rest.
     */
    private List<Entry> undestroyedPools(List<Entry> leaked, String when, String where) {
        Map<PoolChecks.Creation, List<Entry>> byPool = new LinkedHashMap<>();
        List<Entry> own = new ArrayList<>();
        for (Entry entry : leaked) {
            if (entry.pool == null) {
                own.add(entry);
            } else {
                byPool.computeIfAbsent(entry.pool, p -> new ArrayList<>()).add(entry);
            }
        }
        byPool.forEach((pool, pages) -> {
            long bytes = 0;
            for (Entry page : pages) {
                bytes += page.buffer.size();
            }
            findings.report(where.equals("exit of the JVM") ? "pool-not-destroyed-at-exit" : "pool-not-destroyed",
                    "device driver has pending DMA allocations " + when + ": DMA pool " + pool.name()
                    + " was never destroyed (dma_pool_destroy) [pages=" + pages.size() + "] [bytes=" + bytes + "]\n"
                    + "  first page: " + pages.get(0).describe() + "\n  released at: " + where, pool.site(),
                    pool.stack(), "destroy the pool (DmaPool.close(), after freeing its blocks) on the driver's"
                    + " remove path, or own it in try-with-resources");
        });
        return own;
    }

    private void reportLeaks(List<Entry> leaked, String what, String where) {
        for (int i = 0; i < leaked.size(); i++) {
            Entry entry = leaked.get(i);
            findings.report(where.equals("exit of the JVM") ? "leak-at-exit" : "leak-at-close",
                    what + "\n  leaked entry " + (i + 1) + " of " + leaked.size() + ": " + entry.describe()
                    + "\n  released at: " + where, entry.allocSite(), entry.stack,
                    "free every buffer on the driver's remove path (close() each DmaBuffer before the device),"
                    + " or own them in try-with-resources");
        }
    }

    private void releaseQuarantine(Object device) {
        for (Entry entry : quarantine.removeIf(e -> e.device == device)) {
            release(entry);
        }
    }

    /** A snapshot of the live DMA map, as {@code /sys/kernel/debug/dma-api/dump} shows it. */
    List<Entry> liveEntries() {
        return live.values();
    }

    static String siteText(int site) {
        return site != 0 ? CallSites.text(site) : Stacks.siteOf(Stacks.capture());
    }
}
