package io.dmadirect.agent;

import io.dmadirect.DmaDevice;
import io.dmadirect.NoncoherentBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Mode {@code debug} for {@code dma_alloc_pages()} memory ({@code NoncoherentBuffer}): dma-debug tracks it as a
 * coherent allocation ({@code debug_dma_alloc_pages}), so a buffer freed twice or left allocated when the device
 * closes is reported as for {@code allocCoherent}.
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

    private final Findings findings;
    private final boolean trackedFromStart;
    private final StreamingChecks streaming;
    private final Map<Object, Entry> live = new ConcurrentHashMap<>();
    /** The buffers freed last and where, to tell a double free from a foreign buffer. */
    private final Map<Object, Integer> freed = Bounded.map(GONE);

    PageChecks(Findings findings, boolean trackedFromStart, StreamingChecks streaming) {
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.streaming = streaming;
    }

    /** The live buffers of {@code device}: a slow scan, for {@link DeviceAccessChecks}. */
    List<Object> liveBuffers(Object device) {
        List<Object> mine = new ArrayList<>();
        live.forEach((buffer, entry) -> {
            if (entry.device() == device) {
                mine.add(buffer);
            }
        });
        return mine;
    }

    void allocated(Object device, Object buffer, int site) {
        live.put(buffer, new Entry(device, site, streaming.stackOf(site)));
    }

    void beforeFree(Object device, Object buffer, int site) {
        if (buffer == null) {
            return; // the library refuses a null with a clear exception
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
            return;
        }
        boolean gone = buffer instanceof NoncoherentBuffer && ((NoncoherentBuffer) buffer).isFreed();
        if (freedAt != null || gone) {
            findings.report("pages-double-free", "device driver tries to free DMA memory it has not allocated: it was"
                    + " already freed (double free) [" + buffer + "]\n  first freed at: "
                    + (freedAt != null ? CallSites.text(freedAt) : "unknown (freed long ago)"),
                    DebugChecks.siteText(site), Stacks.capture(), "free each buffer once (freePages() or close(),"
                    + " not both); drop the reference after the free");
        } else if (trackedFromStart) {
            findings.report("pages-free-not-allocated", "device driver tries to free DMA memory it has not allocated"
                    + " [object=" + buffer + "] [device=" + ((DmaDevice) device).name() + "]",
                    DebugChecks.siteText(site), Stacks.capture(), "pass freePages() only buffers that allocPages() of"
                    + " the same device returned");
        }
    }

    void beforeClose(Object device, int site) {
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
