package io.dmadirect.agent;

import io.dmadirect.DmaBuffer;
import io.dmadirect.NoncoherentBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Mode {@code debug} beyond the kernel's dma-debug, in the spirit of {@code IOMMU_DEBUG_PAGEALLOC}: on the
 * simulated platform, a device's DMA into memory its driver has freed or unmapped faults instead of landing.
 * The simulated bus master ({@code io.dmadirect.sim.SimulatedBusMaster}) asks before every read and write; an
 * access that no live allocation or mapping of that device covers, and that falls in a coherent buffer or a
 * streaming mapping the driver released recently, is recorded as a fault of the bus master (its read returns
 * null, its write false, as for an IOMMU fault) and reported as {@code device-access-after-free}.
 *
 * <p>What it cannot see: a release older than {@link ReleaseHistory#PER_THREAD} releases of the releasing
 * thread (forgotten, so the access goes through: no report rather than a guess), a freed {@code DmaPool} block
 * (its page stays allocated), memory freed before a dynamic attach, and real hardware (there the IOMMU would
 * have to unmap at free: see the guide's "What {@code mode=debug} catches, and what it cannot").
 */
final class DeviceAccessChecks {
    private final Findings findings;
    private final DebugChecks coherent;
    private final StreamingChecks streaming;
    private final PrimitiveChecks primitive;
    private final PageChecks pages;
    private final ReleaseHistory history;
    /** Each simulated bus master's device; weak, so that a test's platforms are not kept. */
    private final Map<Object, Object> devices = Collections.synchronizedMap(new WeakHashMap<>());

    DeviceAccessChecks(Findings findings, DebugChecks coherent, StreamingChecks streaming, PrimitiveChecks primitive,
            PageChecks pages, ReleaseHistory history) {
        this.findings = findings;
        this.coherent = coherent;
        this.streaming = streaming;
        this.primitive = primitive;
        this.pages = pages;
        this.history = history;
    }

    void busMaster(Object busMaster, Object device) {
        if (busMaster != null && device != null) {
            devices.put(busMaster, device);
        }
    }

    /** The fault text for an access to released memory, or null to let the access run. */
    String beforeAccess(Object busMaster, long dma, long length, boolean write) {
        Object device = devices.get(busMaster);
        if (device == null || length <= 0 || isLive(device, dma, length)) {
            return null;
        }
        LiveTable.Keyed released = history.findMatching(e -> device.equals(deviceOf(e)) && overlaps(e, dma, length));
        if (released == null) {
            return null; // memory the agent never saw released: not its call
        }
        String what = write ? "write" : "read";
        String fault = String.format("%s of %d bytes at DMA 0x%x: memory the driver %s (dmadirect-agent,"
                + " mode=debug)", what, length, dma, released instanceof DebugChecks.Entry ? "freed" : "unmapped");
        String describe;
        String releasedAt;
        String madeAt;
        if (released instanceof DebugChecks.Entry c) {
            describe = c.describe();
            releasedAt = c.freeSite != 0 ? CallSites.text(c.freeSite) : Stacks.siteOf(c.freeStack);
            madeAt = "allocated at: " + c.allocSite();
        } else {
            StreamingChecks.Entry m = (StreamingChecks.Entry) released;
            describe = m.describe();
            releasedAt = m.unmapSite != 0 ? CallSites.text(m.unmapSite) : Stacks.siteOf(m.unmapStack);
            madeAt = "mapped at: " + m.mapSite();
        }
        boolean freed = released instanceof DebugChecks.Entry;
        // The site is where the device's access was issued (a test's or an emulated device's code).
        StackTraceElement[] stack = Stacks.capture();
        String site = stack.length > 0 ? stack[0] + " (the device's access)" : CallSites.UNKNOWN;
        findings.report("device-access-after-free", "device " + what + "s DMA memory its driver has already "
                + (freed ? "freed " : "unmapped ") + describe + " [access=" + what + " of " + length
                + " bytes at 0x" + Long.toHexString(dma) + "]: the simulated bus master faulted it\n  "
                + (freed ? "freed" : "unmapped") + " at: " + releasedAt + "\n  " + madeAt, site,
                stack, "stop the device's DMA (reset its queue, wait for its completion) before freeing"
                + " or unmapping the memory it was given; on real hardware without an IOMMU this access would"
                + " have corrupted whatever reused the memory");
        return fault;
    }

    private static Object deviceOf(LiveTable.Keyed e) {
        return e instanceof DebugChecks.Entry c ? c.device : e instanceof StreamingChecks.Entry m ? m.device : null;
    }

    private static boolean overlaps(LiveTable.Keyed e, long dma, long length) {
        long start;
        long size;
        if (e instanceof DebugChecks.Entry c) {
            start = c.buffer.dmaAddress();
            size = c.buffer.size();
        } else if (e instanceof StreamingChecks.Entry m) {
            start = m.mapping.dmaAddress();
            size = m.mapping.size();
        } else {
            return false;
        }
        // The ranges meet when either starts inside the other (offsets compared unsigned: no overflow).
        return Long.compareUnsigned(dma - start, size) < 0 || Long.compareUnsigned(start - dma, length) < 0;
    }

    /**
     * Whether a live allocation or mapping of {@code device} covers all of {@code [dma, dma + length)}: asked on
     * every simulated bus-master access, so each table is looked at in place, never copied.
     */
    private boolean isLive(Object device, long dma, long length) {
        return coherent.live.anyMatch(e -> e.device == device
                        && covers(e.buffer.dmaAddress(), e.buffer.size(), dma, length))
                || streaming.live.anyMatch(e -> e.device == device
                        && covers(e.mapping.dmaAddress(), e.mapping.size(), dma, length))
                || primitive.anyLiveFrom(device, dma, e -> covers(e.dma, e.size, dma, length))
                || pages.anyLive(device, b -> b instanceof NoncoherentBuffer n && covers(n.dmaAddress(), n.size(), dma,
                        length) || b instanceof DmaBuffer d && covers(d.dmaAddress(), d.size(), dma, length));
    }

    private static boolean covers(long start, long size, long dma, long length) {
        return dma >= start && length <= size && dma - start <= size - length;
    }
}
