package io.dmadirect.agent;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaUsageException;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.agent.bootstrap.DmaHooks;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Mode {@code debug} for {@code dma_alloc_pages()} memory ({@code NoncoherentBuffer}): dma-debug tracks it as a
 * coherent allocation ({@code debug_dma_alloc_pages}), so a buffer freed twice or left allocated when the device
 * closes is reported as for {@code allocCoherent}. Under {@code poison=true} a freed {@code NoncoherentBuffer}
 * is poisoned and held in a quarantine of its own (the same caps as coherent memory's) before the real free,
 * so a write through a stale CPU view is reported as {@code write-after-free}.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/debug.c">debug_dma_free_pages</a>
 */
final class PageChecks {
    private static final int GONE = 256;

    /** One buffer the driver holds. */
    record Entry(Object device, int site, StackTraceElement[] stack) {
        String allocSite() {
            return site != 0 ? CallSites.text(site) : Stacks.siteOf(stack);
        }
    }

    /** A freed buffer in quarantine: its poisoned view, and where it was allocated and freed. */
    record Held(NoncoherentBuffer buffer, Object device, Entry entry, int freeSite, ByteBuffer view) {
    }

    private final AgentOptions options;
    private final Findings findings;
    private final boolean trackedFromStart;
    private final StreamingChecks streaming;
    private final Map<Object, Entry> live = new ConcurrentHashMap<>();
    private final Quarantine<Held> quarantine;
    /** The buffers freed last and where, to tell a double free from a foreign buffer. */
    private final Map<Object, Integer> freed = Bounded.map(GONE);

    PageChecks(AgentOptions options, Findings findings, boolean trackedFromStart, StreamingChecks streaming) {
        this.options = options;
        this.quarantine = new Quarantine<>(options.quarantine, options.quarantineBytes, Held::buffer,
                h -> h.buffer().size());
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.streaming = streaming;
    }

    /** Whether a live buffer of {@code device} {@code matches}: the live map looked at in place, no copy. */
    boolean anyLive(Object device, Predicate<Object> matches) {
        for (Map.Entry<Object, Entry> e : live.entrySet()) {
            if (e.getValue().device() == device && matches.test(e.getKey())) {
                return true;
            }
        }
        return false;
    }

    void allocated(Object device, Object buffer, int site) {
        live.put(buffer, new Entry(device, site, streaming.stackOf(site)));
    }

    /** Before {@code freePages}: null to let it run, {@link DmaHooks#SKIP} for quarantine, or an exception. */
    Throwable beforeFree(Object device, Object buffer, int site) {
        if (buffer == null || DmaHooks.thread().releasing) {
            return null; // the library refuses a null with a clear exception; the agent's own release is no free
        }
        Entry entry = live.remove(buffer);
        Integer freedAt;
        synchronized (freed) {
            freedAt = entry == null ? freed.get(buffer) : null;
            if (entry != null) {
                freed.put(buffer, site);
            }
        }
        if (entry != null) {
            return quarantine(device, buffer, entry, site);
        }
        boolean gone = buffer instanceof NoncoherentBuffer && ((NoncoherentBuffer) buffer).isFreed();
        if (freedAt != null || gone) {
            findings.report("pages-double-free", "device driver tries to free DMA memory it has not allocated: it was"
                    + " already freed (double free) [" + buffer + "]\n  first freed at: "
                    + (freedAt != null ? CallSites.text(freedAt) : "unknown (freed long ago)"),
                    DebugChecks.siteText(site), Stacks.capture(), "free each buffer once (freePages() or close(),"
                    + " not both); drop the reference after the free");
            if (quarantine.contains(buffer)) {
                // The library has not seen the first free yet, so it would not refuse: refuse as it would.
                return new DmaUsageException("failed to free " + buffer + ": it was already freed (double free)");
            }
        } else if (trackedFromStart) {
            findings.report("pages-free-not-allocated", "device driver tries to free DMA memory it has not allocated"
                    + " [object=" + buffer + "] [device=" + ((DmaDevice) device).name() + "]",
                    DebugChecks.siteText(site), Stacks.capture(), "pass freePages() only buffers that allocPages() of"
                    + " the same device returned");
        }
        return null;
    }

    /** Under {@code poison=true}: poisons the freed buffer and holds it, {@link DmaHooks#SKIP}; else null, free it now. */
    private Throwable quarantine(Object device, Object buffer, Entry entry, int site) {
        if (!options.poison || !(buffer instanceof NoncoherentBuffer n) || !quarantine.admits(n.size())) {
            return null;
        }
        ByteBuffer view;
        try {
            view = n.cpuView().order(ByteOrder.nativeOrder());
        } catch (RuntimeException noView) {
            return null; // memory without a CPU view cannot be poisoned: freed at once
        }
        DebugChecks.fill(view);
        for (Held h : quarantine.add(new Held(n, device, entry, site, view))) {
            release(h);
        }
        return DmaHooks.SKIP;
    }

    /**
     * An allocation failed: frees everything in quarantine, as {@link DebugChecks#drainQuarantine} does for
     * coherent memory. True when something was freed.
     */
    boolean drainQuarantine() {
        return quarantine.drain(this::release);
    }

    /** Checks the poison of a quarantined buffer, then frees it for real. */
    private void release(Held h) {
        checkPoison(h);
        Quarantine.freeForReal(h.buffer()::close);
    }

    private void checkPoison(Held h) {
        int i = DebugChecks.poisonMismatch(h.view());
        if (i >= 0) {
            String allocated = h.entry().allocSite();
            findings.report("write-after-free", "device driver wrote to DMA memory after freeing it (dma_free_pages) ["
                    + h.buffer() + "] [offset=" + i + ": 0x" + Integer.toHexString(h.view().get(i) & 0xff)
                    + " instead of poison 0xa7]\n  allocated at: " + allocated + "\n  freed at: "
                    + (h.freeSite() != 0 ? CallSites.text(h.freeSite()) : CallSites.UNKNOWN), allocated,
                    h.entry().stack(), "stop using the buffer's CPU view (and the DMA address) once the buffer is"
                    + " freed; a device may still have been writing: quiesce it before freeing");
        }
    }

    void beforeClose(Object device, int site) {
        for (Held h : quarantine.removeIf(h -> h.device() == device)) {
            release(h);
        }
        List<Map.Entry<Object, Entry>> leaked = new ArrayList<>();
        for (Map.Entry<Object, Entry> e : live.entrySet()) {
            if (e.getValue().device() == device) {
                leaked.add(e);
            }
        }
        leaked.forEach(e -> live.remove(e.getKey()));
        report(leaked, "leak-at-close", "while released from device [device=" + ((DmaDevice) device).name() + "]",
                DebugChecks.siteText(site));
    }

    void atExit() {
        for (Held h : quarantine.snapshot()) {
            checkPoison(h);
        }
        report(new ArrayList<>(live.entrySet()), "leak-at-exit", "at exit", "exit of the JVM");
    }

    private void report(List<Map.Entry<Object, Entry>> leaked, String check, String when, String where) {
        for (int i = 0; i < leaked.size(); i++) {
            Entry entry = leaked.get(i).getValue();
            findings.report(check, "device driver has pending DMA allocations (dma_alloc_pages) " + when + " [count="
                    + leaked.size() + "]\n  leaked entry " + (i + 1) + " of " + leaked.size() + ": "
                    + leaked.get(i).getKey() + "\n  released at: " + where, entry.allocSite(), entry.stack(),
                    "free every buffer on the driver's remove path (close() each NoncoherentBuffer before the"
                    + " device), or own them in try-with-resources");
        }
    }
}
