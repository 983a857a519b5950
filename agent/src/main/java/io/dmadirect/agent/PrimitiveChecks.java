package io.dmadirect.agent;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.agent.bootstrap.DmaHooks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Mode {@code debug} for the primitive streaming API ({@code mapSingle}, {@code unmapSingle},
 * {@code syncSingle*}, the array {@code mapSg}, {@code unmapSg}, {@code syncSg*}) and for
 * {@code mapResource}: there the driver passes the address, size and direction back itself, so all of
 * {@code check_unmap()} and {@code check_sync()} apply: an address never mapped, a double unmap, the wrong
 * size, the wrong direction, the wrong function (single against scatter-gather against resource), a sync
 * outside the mapping. Entries are kept per device by DMA address, as dma-debug hashes {@code (dev, dev_addr)}.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/debug.c">check_unmap</a>
 */
final class PrimitiveChecks {
    static final String SINGLE = "single";
    static final String SG = "scatter-gather";
    static final String RESOURCE = "resource";
    /** Unmapped addresses remembered per device, to tell a double unmap from an address never mapped. */
    private static final int GONE = 256;

    /** One live primitive mapping or segment. */
    static final class Entry implements OverlapCheck.Described {
        final Object device;
        final long dma;
        final long size;
        final Object direction;
        final String kind;
        final int site;
        final StackTraceElement[] stack;
        ActiveCacheLines.Span span;
        int unmapSite;

        Entry(Object device, long dma, long size, Object direction, String kind, int site, StackTraceElement[] stack) {
            this.device = device;
            this.dma = dma;
            this.size = size;
            this.direction = direction;
            this.kind = kind;
            this.site = site;
            this.stack = stack;
        }

        @Override
        public String describe() {
            return "[device=" + name(device) + "] [device address=0x" + Long.toHexString(dma) + "] [size=" + size
                    + " bytes] [mapped as " + kind + "] [" + direction + "]";
        }

        @Override
        public String mapSite() {
            return site != 0 ? CallSites.text(site) : Stacks.siteOf(stack);
        }

        @Override
        public boolean bounced() {
            return false; // not known from an address; only matters for the other-bytes case, where it is conservative
        }

        boolean contains(long address) {
            return address >= dma && address - dma < size;
        }
    }

    /** A device's live entries by address (several may share one: the same memory mapped twice directly). */
    private static final class DeviceEntries {
        final TreeMap<Long, List<Entry>> live = new TreeMap<>();
        final Map<Long, Entry> gone = Bounded.map(GONE);
    }

    private final AgentOptions options;
    private final Findings findings;
    private final boolean trackedFromStart;
    private final StreamingChecks streaming;
    private final ConcurrentHashMap<Object, DeviceEntries> devices = new ConcurrentHashMap<>();

    PrimitiveChecks(AgentOptions options, Findings findings, boolean trackedFromStart, StreamingChecks streaming) {
        this.options = options;
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.streaming = streaming;
    }

    private DeviceEntries of(Object device) {
        return devices.computeIfAbsent(device, d -> new DeviceEntries());
    }

    /** {@code debug_dma_map_phys()}: {@code base} and {@code start} say where the memory is, for the overlap index. */
    void mapped(Object device, Object base, long start, long dma, long size, Object direction, int attrs, String kind,
            int site) {
        Entry entry = new Entry(device, dma, size, direction, kind, site, streaming.stackOf(site));
        DeviceEntries d = of(device);
        synchronized (d) {
            d.live.computeIfAbsent(dma, a -> new ArrayList<>(1)).add(entry);
            d.gone.remove(dma);
        }
        if (!RESOURCE.equals(kind)) {
            entry.span = streaming.overlaps.add(device, base, start, size, direction, attrs, entry, site);
        }
    }

    /**
     * {@code check_unmap()}; the entry it took out of the live map (for {@link #unmapFailed} to put back when
     * the library refuses the unmap), or null.
     */
    Entry beforeUnmap(Object device, long dma, long size, Object direction, String kind, int site,
            DmaHooks.PerThread thread) {
        DeviceEntries d = of(device);
        Entry entry;
        Entry gone;
        synchronized (d) {
            List<Entry> at = d.live.get(dma);
            entry = at == null ? null : bestFit(at, size, direction);
            if (entry != null) {
                at.remove(entry);
                if (at.isEmpty()) {
                    d.live.remove(dma);
                }
                d.gone.put(dma, entry);
            }
            gone = entry == null ? d.gone.get(dma) : null;
        }
        if (entry == null) {
            if (carriedOn(thread, "unmap", dma, site)) {
                return null;
            }
            if (gone != null) {
                report("double-unmap", "device driver tries to free DMA memory it has not allocated: it was already"
                        + " unmapped (double unmap) " + gone.describe() + "\n  first unmapped at: "
                        + CallSites.text(gone.unmapSite) + "\n  mapped at: " + gone.mapSite(), site,
                        "unmap each address once; forget it after the unmap");
            } else if (trackedFromStart) {
                report("unmap-not-mapped", "device driver tries to free DMA memory it has not allocated [device="
                        + name(device) + "] [device address=0x" + Long.toHexString(dma) + "] [size=" + size
                        + " bytes]", site, "unmap only an address that " + mapName(kind) + " of this device returned,"
                        + " with the size and direction it was mapped with");
            }
            return null;
        }
        mapErrorResolved(thread);
        entry.unmapSite = site;
        streaming.overlaps.remove(entry.span);
        if (entry.size != size) {
            report("unmap-size", "device driver frees DMA memory with different size " + entry.describe()
                    + " [map size=" + entry.size + " bytes] [unmap size=" + size + " bytes]\n  mapped at: "
                    + entry.mapSite(), site, "unmap with the size the address was mapped with");
        }
        if (!entry.kind.equals(kind)) {
            report("unmap-wrong-function", "device driver frees DMA memory with wrong function " + entry.describe()
                    + " [unmapped as " + kind + "]\n  mapped at: " + entry.mapSite(), site,
                    "unmap with the function that matches the map (" + unmapName(entry.kind) + ")");
        }
        if (entry.direction != direction) {
            report("unmap-direction", "device driver frees DMA memory with different direction " + entry.describe()
                    + " [mapped with " + entry.direction + "] [unmapped with " + direction + "]\n  mapped at: "
                    + entry.mapSite(), site, "unmap with the direction the address was mapped with");
        }
        return entry;
    }

    /** The library refused the unmap: the mapping is still live for it, so it stays live here. */
    void unmapFailed(Entry entry) {
        DeviceEntries d = of(entry.device);
        synchronized (d) {
            d.live.computeIfAbsent(entry.dma, a -> new ArrayList<>(1)).add(entry);
            d.gone.remove(entry.dma);
        }
    }

    /** {@code check_sync()} for an address anywhere inside a mapping. */
    void beforeSync(Object device, long dma, long size, Object direction, boolean forCpu, int site,
            DmaHooks.PerThread thread) {
        DeviceEntries d = of(device);
        Entry entry = null;
        Entry gone = null;
        synchronized (d) {
            entry = liveFrom(d, dma, candidate -> candidate.contains(dma));
            if (entry == null) {
                for (Entry g : d.gone.values()) {
                    if (g.contains(dma)) {
                        gone = g;
                    }
                }
            }
        }
        String what = forCpu ? "syncSingleForCpu" : "syncSingleForDevice";
        if (entry == null) {
            if (carriedOn(thread, what, dma, site)) {
                return;
            }
            if (gone != null) {
                report("sync-unmapped", "device driver tries to sync DMA memory it has not allocated: it was already"
                        + " unmapped " + gone.describe() + "\n  unmapped at: " + CallSites.text(gone.unmapSite), site,
                        "sync only while the address is mapped; map again for the next transfer");
            } else if (trackedFromStart) {
                report("sync-not-mapped", "device driver tries to sync DMA memory it has not allocated [device="
                        + name(device) + "] [device address=0x" + Long.toHexString(dma) + "] [size=" + size
                        + " bytes]", site, "sync only addresses inside a live mapping of this device");
            }
            return;
        }
        mapErrorResolved(thread);
        if (size < 1 || size > entry.size - (dma - entry.dma)) {
            report("sync-outside", "device driver syncs DMA memory outside allocated range " + entry.describe()
                    + " [sync device address=0x" + Long.toHexString(dma) + "] [sync size=" + size + " bytes]"
                    + "\n  mapped at: " + entry.mapSite(), site, "sync only a range inside the mapping");
        }
        // check_sync(): a BIDIRECTIONAL mapping may be synced in any direction.
        if (entry.direction != DmaDirection.BIDIRECTIONAL && entry.direction != direction) {
            report("sync-direction", "device driver syncs DMA memory with different direction " + entry.describe()
                    + " [mapped with " + entry.direction + "] [synced with " + direction + "]\n  mapped at: "
                    + entry.mapSite(), site, "sync with the direction the address was mapped with");
        }
    }

    /** The driver left these mapped when it closed the device: {@code dma_debug_device_change()}. */
    void beforeClose(Object device, int site) {
        DeviceEntries d = devices.remove(device);
        if (d != null) {
            reportLeaks(d, "device driver has pending DMA mappings while released from device [device="
                    + name(device) + "]", DebugChecks.siteText(site), "leak-at-close");
        }
    }

    void atExit() {
        for (DeviceEntries d : devices.values()) {
            reportLeaks(d, "device driver has pending DMA mappings at exit", "exit of the JVM", "leak-at-exit");
        }
    }

    /**
     * Whether a live entry of {@code device} that starts at or below {@code dma} {@code matches}: found through
     * the address index, in place (no copy), under the device's lock.
     */
    boolean anyLiveFrom(Object device, long dma, Predicate<Entry> matches) {
        DeviceEntries d = devices.get(device);
        if (d == null) {
            return false;
        }
        synchronized (d) {
            return liveFrom(d, dma, matches) != null;
        }
    }

    /**
     * The first live entry of {@code d} that starts at or below {@code dma} and {@code matches}, walking the address
     * index down from {@code dma}; null if none. The caller holds {@code d}'s lock.
     */
    private static Entry liveFrom(DeviceEntries d, long dma, Predicate<Entry> matches) {
        for (Map.Entry<Long, List<Entry>> e = d.live.floorEntry(dma); e != null; e = d.live.lowerEntry(e.getKey())) {
            for (Entry candidate : e.getValue()) {
                if (matches.test(candidate)) {
                    return candidate;
                }
            }
            if (dma - e.getKey() > (1L << 32)) {
                return null; // no single mapping is that large: stop walking down
            }
        }
        return null;
    }

    /** Every live entry, for the dump. */
    List<Entry> liveEntries() {
        List<Entry> all = new ArrayList<>();
        for (DeviceEntries d : devices.values()) {
            synchronized (d) {
                d.live.values().forEach(all::addAll);
            }
        }
        return all;
    }

    private void reportLeaks(DeviceEntries d, String what, String where, String check) {
        List<Entry> leaked = new ArrayList<>();
        synchronized (d) {
            d.live.values().forEach(leaked::addAll);
            d.live.clear();
        }
        for (int i = 0; i < leaked.size(); i++) {
            Entry entry = leaked.get(i);
            streaming.overlaps.remove(entry.span);
            findings.report(check, what + " [count=" + leaked.size() + "]\n  leaked entry " + (i + 1) + " of "
                    + leaked.size() + ": " + entry.describe() + "\n  released at: " + where, entry.mapSite(),
                    entry.stack, "unmap every address on the driver's completion and remove paths ("
                    + unmapName(entry.kind) + ") before closing the device");
        }
    }

    /** The entry at one address that matches the unmap best: size and direction, then size, then any. */
    private static Entry bestFit(List<Entry> at, long size, Object direction) {
        Entry sized = null;
        for (Entry e : at) {
            if (e.size == size && e.direction == direction) {
                return e;
            }
            if (sized == null && e.size == size) {
                sized = e;
            }
        }
        return sized != null ? sized : at.isEmpty() ? null : at.get(0);
    }

    /** A map error the driver caught is pending and it now uses an address no mapping holds: the stale value. */
    private boolean carriedOn(DmaHooks.PerThread thread, String op, long dma, int site) {
        if (thread == null || thread.mapErrorCaught == 0) {
            return false;
        }
        streaming.reportCarriedOn(thread, op, "address 0x" + Long.toHexString(dma), site);
        return true;
    }

    private void mapErrorResolved(DmaHooks.PerThread thread) {
        if (thread != null && thread.mapError != null) {
            streaming.mapErrorHandled(thread);
        }
    }

    private void report(String check, String message, int site, String remedy) {
        findings.report(check, message, DebugChecks.siteText(site), Stacks.capture(), remedy);
    }

    private static String mapName(String kind) {
        return SINGLE.equals(kind) ? "mapSingle" : SG.equals(kind) ? "mapSg" : "mapResource";
    }

    private static String unmapName(String kind) {
        return SINGLE.equals(kind) ? "unmapSingle" : SG.equals(kind) ? "unmapSg" : "unmapResource";
    }

    private static String name(Object device) {
        return device instanceof DmaDevice ? ((DmaDevice) device).name() : String.valueOf(device);
    }
}
