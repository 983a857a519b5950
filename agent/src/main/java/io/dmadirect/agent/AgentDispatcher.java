package io.dmadirect.agent;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.ScatterList;
import io.dmadirect.agent.bootstrap.Dispatcher;
import io.dmadirect.agent.bootstrap.DmaHooks;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Supplier;

/** Routes the advice's calls to the modes that are on: {@link Injector}, {@link DebugChecks} and {@link StreamingChecks}, {@link Tracer}. */
final class AgentDispatcher implements Dispatcher {
    final AgentOptions options;
    final Tracer tracer;
    final DebugChecks debug;
    final StreamingChecks streaming;
    final PrimitiveChecks primitive;
    final PoolChecks pools;
    final PageChecks pages;
    private final ReleaseHistory history;
    final DeviceAccessChecks deviceAccess;
    final Injector injector;
    final Findings findings;
    /** False after a dynamic attach: buffers allocated before it exist, and the driver frees them too. */
    final boolean trackedFromStart;

    AgentDispatcher(AgentOptions options, Findings findings, boolean trackedFromStart) {
        this.options = options;
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.tracer = options.trace ? new Tracer() : null;
        history = options.debug ? new ReleaseHistory() : null;
        this.debug = options.debug ? new DebugChecks(options, findings, trackedFromStart, history) : null;
        this.streaming = options.debug ? new StreamingChecks(options, findings, trackedFromStart, history) : null;
        this.primitive = options.debug ? new PrimitiveChecks(options, findings, trackedFromStart, streaming) : null;
        this.pools = options.debug ? new PoolChecks(findings, trackedFromStart, streaming) : null;
        this.pages = options.debug ? new PageChecks(options, findings, trackedFromStart, streaming) : null;
        this.injector = options.inject ? new Injector(options) : null;
        this.deviceAccess = options.debug ? new DeviceAccessChecks(findings, debug, streaming, primitive, pages, history)
                : null;
    }

    @Override
    public void afterBusMaster(Object busMaster, Object device) {
        if (deviceAccess != null) {
            deviceAccess.busMaster(busMaster, device);
        }
    }

    @Override
    public String beforeDeviceAccess(Object busMaster, long dmaAddress, long length, boolean write) {
        return deviceAccess == null ? null : deviceAccess.beforeAccess(busMaster, dmaAddress, length, write);
    }

    @Override
    public Throwable beforeAlloc(Object device, long size, int site) {
        // The agent's own retry after draining the quarantine is not a call of the driver's to fail.
        Throwable injected = injector == null || DmaHooks.thread().releasing ? null
                : injector.allocation(device, size, site);
        if (injected != null && tracer != null) {
            tracer.injected.increment();
        }
        return injected;
    }

    @Override
    public void afterAlloc(Object device, long size, Object buffer, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread) {
        if (tracer != null) {
            tracer.alloc(device, size, buffer, site, startNanos, thread);
        }
        if (debug != null && buffer != null) {
            debug.allocated(device, buffer, site, thread.pool == null ? null : pools.creation(thread.pool));
        }
    }

    @Override
    public Object retryAlloc(Object device, long size, Object attrs, Throwable thrown, DmaHooks.PerThread thread) {
        return retryAfterDrain(thrown, thread, () -> allocAgain((io.dmadirect.DmaDevice) device, size, attrs));
    }

    @Override
    public Object retryAllocPages(Object device, String method, long size, Object direction, Object attrs,
            Throwable thrown, DmaHooks.PerThread thread) {
        return retryAfterDrain(thrown, thread, () -> allocPagesAgain((io.dmadirect.DmaDevice) device, method, size,
                (io.dmadirect.DmaDirection) direction, attrs));
    }

    /**
     * A failed allocation: lets both quarantines go (coherent and {@code allocPages} memory come from the same
     * zones, so either may hold what the other needs) and, when that freed something, runs {@code again} as the
     * agent's own call. Null when there was nothing to free or the retry failed too: the driver then gets its
     * own failure, as it would have without the agent.
     */
    private Object retryAfterDrain(Throwable thrown, DmaHooks.PerThread thread, Supplier<Object> again) {
        if (debug == null || thread.releasing || !(thrown instanceof io.dmadirect.DmaAllocationException)) {
            return null;
        }
        boolean drained = debug.drainQuarantine() | pages.drainQuarantine(); // both, not the first that freed
        if (!drained) {
            return null;
        }
        thread.releasing = true;
        try {
            return again.get();
        } catch (RuntimeException stillFailing) {
            return null;
        } finally {
            thread.releasing = false;
        }
    }

    /** The driver's {@code allocPages} or {@code allocNoncontiguous} ({@code method}) once more. */
    static Object allocPagesAgain(io.dmadirect.DmaDevice device, String method, long size,
            io.dmadirect.DmaDirection direction, Object attrs) {
        DmaAttr[] array = attrs instanceof DmaAttr[] a ? a : new DmaAttr[0];
        return "allocNoncontiguous".equals(method) ? device.allocNoncontiguous(size, direction, array)
                : device.allocPages(size, direction, array);
    }

    /**
     * The driver's {@code allocCoherent} once more, through the overload it called: the advice sees the
     * attributes as the {@code DmaAttr[]} or the boxed {@code int} flags it was given.
     */
    static Object allocAgain(io.dmadirect.DmaDevice device, long size, Object attrs) {
        if (attrs instanceof Integer flags) {
            return device.allocCoherent(size, flags.intValue());
        }
        return device.allocCoherent(size, attrs instanceof DmaAttr[] array ? array : new DmaAttr[0]);
    }

    @Override
    public Throwable beforeFree(Object device, Object buffer, int site, DmaHooks.PerThread thread) {
        return debug == null || thread.releasing ? null : debug.beforeFree(device, buffer, site, thread);
    }

    @Override
    public void afterFree(Object device, Object buffer, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread) {
        if (tracer != null && !thread.releasing) {
            tracer.free(buffer, thrown != null, site, startNanos, thread);
        }
    }

    @Override
    public void beforeClose(Object device, int site) {
        if (debug != null) {
            debug.beforeClose(device, site);
            streaming.beforeClose(device, site);
            primitive.beforeClose(device, site);
            pools.beforeClose(device, site);
            pages.beforeClose(device, site);
            history.forget(entry -> entry instanceof DebugChecks.Entry && ((DebugChecks.Entry) entry).device == device
                    || entry instanceof StreamingChecks.Entry && ((StreamingChecks.Entry) entry).device == device);
        }
    }

    @Override
    public void nonDmaAllocation(int site, String what) {
        if (debug != null) {
            findings.report("non-dma-memory", "device driver allocates memory with " + what
                    + ", which is not DMA memory: no device can be given its address (no pinned physical"
                    + " address, no IOVA mapping, no mask check)", CallSites.text(site), Stacks.capture(),
                    "allocate device-visible memory with DmaDevice.allocCoherent(), or map the buffer with"
                    + " DmaDevice.map() before handing its address to the device");
        }
    }

    @Override
    public Throwable beforeMap(Object device, Object what, long size, int site, DmaHooks.PerThread thread) {
        if (thread.mapError != null && streaming != null) {
            streaming.mapErrorHandled(thread); // another map: a retry or a fallback acts on the earlier error
        }
        if (injector == null) {
            return null;
        }
        long bytes = size >= 0 ? size : bytesOf(what);
        Throwable injected = injector.mapping(device, bytes, site);
        if (injected != null) {
            if (tracer != null) {
                tracer.injected.increment();
                tracer.map(device, bytes, null, site, 0, thread);
            }
            pendingMapError(injected, site, thread);
        }
        return injected;
    }

    @Override
    public void afterMap(Object device, Object what, int offset, long size, Object attrs, Object result,
            Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            tracer.map(device, size >= 0 || result != null ? size : bytesOf(what), result, site, startNanos, thread);
        }
        if (streaming != null) {
            if (result != null) {
                streaming.mapped(device, what, offset, attrs instanceof DmaAttr[] ? DmaAttr.flags((DmaAttr[]) attrs) : 0,
                        result, site);
            } else if (thrown instanceof DmaMappingException) {
                pendingMapError(thrown, site, thread);
            }
        }
    }

    private void pendingMapError(Throwable error, int site, DmaHooks.PerThread thread) {
        if (streaming != null && site != 0) {
            thread.mapError = error;
            thread.mapErrorSite = site;
            thread.mapErrorCaught = 0;
        }
    }

    /** The bytes a map was asked for: a buffer's remaining bytes, or the sum over a scatter list's buffers. */
    private static long bytesOf(Object what) {
        if (what instanceof ByteBuffer) {
            return ((ByteBuffer) what).remaining();
        }
        long total = 0;
        if (what instanceof List) {
            for (Object b : (List<?>) what) {
                total += b instanceof ByteBuffer ? ((ByteBuffer) b).remaining() : 0;
            }
        }
        return total;
    }

    @Override
    public void beforeUnmap(Object device, Object mapping, int site, DmaHooks.PerThread thread) {
        if (streaming != null) {
            int s = thread.sgUnmap != null ? thread.sgSite : site;
            if (thread.mapError == null || !streaming.beforeStreamingUse(thread, "unmap", mapping, s)) {
                streaming.beforeUnmap(device, mapping, s, thread.sgUnmap, thread);
            }
        }
    }

    @Override
    public void afterUnmap(Object device, Object mapping, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread) {
        // A scatter list's segments: its close counts once, in afterUnmapSg, as its mapSg counted once.
        if (tracer != null && thread.sgUnmap == null) {
            int s = site;
            tracer.streaming(Tracer.UNMAP, "unmap", mapping, thrown == null ? ((DmaMapping) mapping).size() : 0,
                    thrown != null, s, startNanos, thread);
        }
    }

    @Override
    public void beforeSync(Object device, Object mapping, long offset, long length, Object direction, boolean forCpu,
            int site, DmaHooks.PerThread thread) {
        if (streaming != null) {
            if (thread.mapError == null
                    || !streaming.beforeStreamingUse(thread, forCpu ? "syncForCpu" : "syncForDevice", mapping, site)) {
                streaming.beforeSync(device, mapping, offset, length, direction, forCpu, site);
            }
        }
    }

    @Override
    public void afterSync(Object device, Object mapping, long length, boolean forCpu, Throwable thrown, int site,
            long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            long bytes = thrown != null ? 0 : length >= 0 ? length : ((DmaMapping) mapping).size();
            tracer.streaming(Tracer.SYNC, forCpu ? "syncForCpu" : "syncForDevice", mapping, bytes, thrown != null,
                    site, startNanos, thread);
        }
    }

    @Override
    public void beforeUnmapSg(Object list, int site, DmaHooks.PerThread thread) {
        if (streaming != null) {
            streaming.beforeUnmapSg(list, site);
        }
    }

    @Override
    public void mapErrorCaught(DmaHooks.PerThread thread) {
        if (streaming != null) {
            streaming.mapErrorCaught(thread);
        }
    }

    @Override
    public void mapErrorHandled(DmaHooks.PerThread thread) {
        if (streaming != null) {
            streaming.mapErrorHandled(thread);
        }
    }

    @Override
    public void afterUnmapSg(Object list, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            long bytes = thrown == null && list instanceof ScatterList ? ((ScatterList) list).totalSize() : 0;
            tracer.counted(Tracer.UNMAP, bytes, thrown != null, site, startNanos, thread);
        }
    }

    // ---- The primitive streaming API and mapResource.

    @Override
    public void afterMapSingle(Object device, Object buffer, long start, long size, Object direction, int attrs,
            long dma, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            tracer.counted(Tracer.MAP, thrown == null ? size : 0, thrown != null, site, startNanos, thread);
        }
        if (primitive != null) {
            if (thrown == null) {
                ByteBuffer b = buffer instanceof ByteBuffer ? (ByteBuffer) buffer : null;
                primitive.mapped(device, b == null ? null : BufferMemory.base(b),
                        b == null ? start : BufferMemory.start(b, start), dma, size, direction, attrs,
                        PrimitiveChecks.SINGLE, site);
            } else if (thrown instanceof DmaMappingException) {
                pendingMapError(thrown, site, thread);
            }
        }
    }

    @Override
    public Object beforeUnmapAddress(Object device, long dma, long size, Object direction, int kind, int site,
            DmaHooks.PerThread thread) {
        return primitive == null ? null : primitive.beforeUnmap(device, dma, size, direction,
                kind == 2 ? PrimitiveChecks.RESOURCE : PrimitiveChecks.SINGLE, site, thread);
    }

    @Override
    public void afterUnmapAddress(Object entry, long size, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread) {
        if (tracer != null) {
            tracer.counted(Tracer.UNMAP, thrown == null ? size : 0, thrown != null, site, startNanos, thread);
        }
        if (primitive != null && entry != null && thrown != null) {
            primitive.unmapFailed((PrimitiveChecks.Entry) entry);
        }
    }

    @Override
    public void afterMapResource(Object device, long size, Object direction, long dma, Throwable thrown, int site,
            long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            tracer.counted(Tracer.MAP, thrown == null ? size : 0, thrown != null, site, startNanos, thread);
        }
        if (primitive != null && thrown == null) {
            primitive.mapped(device, null, -1, dma, size, direction, 0, PrimitiveChecks.RESOURCE, site);
        }
    }

    @Override
    public void beforeSyncAddress(Object device, long dma, long size, Object direction, boolean forCpu, int site,
            DmaHooks.PerThread thread) {
        if (primitive != null) {
            primitive.beforeSync(device, dma, size, direction, forCpu, site, thread);
        }
    }

    @Override
    public void afterSyncAddress(long bytes, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            tracer.counted(Tracer.SYNC, thrown == null ? bytes : 0, thrown != null, site, startNanos, thread);
        }
    }

    @Override
    public void afterMapSgArray(Object device, Object buffers, int nents, Object direction, int attrs, long[] out,
            Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
        ByteBuffer[] list = buffers instanceof ByteBuffer[] ? (ByteBuffer[]) buffers : new ByteBuffer[0];
        int n = Math.min(nents, Math.min(list.length, out == null ? 0 : out.length));
        if (tracer != null) {
            long bytes = 0;
            for (int i = 0; i < n && thrown == null; i++) {
                bytes += list[i].remaining();
            }
            tracer.counted(Tracer.MAP, bytes, thrown != null, site, startNanos, thread);
        }
        if (primitive != null) {
            if (thrown == null) {
                for (int i = 0; i < n; i++) {
                    ByteBuffer b = list[i];
                    primitive.mapped(device, BufferMemory.base(b), BufferMemory.start(b, b.position()), out[i],
                            b.remaining(), direction, attrs, PrimitiveChecks.SG, site);
                }
            } else if (thrown instanceof DmaMappingException) {
                pendingMapError(thrown, site, thread);
            }
        }
    }

    @Override
    public Object beforeUnmapSgArray(Object device, long[] addresses, int[] lengths, int nents, Object direction,
            int site, DmaHooks.PerThread thread) {
        if (primitive == null) {
            return null;
        }
        int n = Math.min(nents, Math.min(addresses.length, lengths.length));
        PrimitiveChecks.Entry[] entries = new PrimitiveChecks.Entry[n];
        for (int i = 0; i < n; i++) {
            entries[i] = primitive.beforeUnmap(device, addresses[i], lengths[i], direction, PrimitiveChecks.SG, site,
                    thread);
        }
        return entries;
    }

    @Override
    public void afterUnmapSgArray(Object entries, int[] lengths, int nents, Throwable thrown, int site,
            long startNanos, DmaHooks.PerThread thread) {
        if (tracer != null) {
            long bytes = 0;
            for (int i = 0; i < nents && i < lengths.length && thrown == null; i++) {
                bytes += lengths[i];
            }
            tracer.counted(Tracer.UNMAP, bytes, thrown != null, site, startNanos, thread);
        }
        // The library unmaps every segment it can and throws the first failure after: only the ones it refused
        // stay mapped, and it does not say which; the agent keeps them unmapped rather than guess.
    }

    @Override
    public void beforeSyncSgArray(Object device, long[] addresses, int[] lengths, int nents, Object direction,
            boolean forCpu, int site, DmaHooks.PerThread thread) {
        if (primitive != null) {
            int n = Math.min(nents, Math.min(addresses.length, lengths.length));
            for (int i = 0; i < n; i++) {
                primitive.beforeSync(device, addresses[i], lengths[i], direction, forCpu, site, thread);
            }
        }
    }

    // ---- DmaPool blocks.

    @Override
    public void afterAllocPages(Object device, Object buffer, int site) {
        if (pages != null) {
            pages.allocated(device, buffer, site);
        }
    }

    @Override
    public Throwable beforeFreePages(Object device, Object buffer, int site) {
        return pages == null ? null : pages.beforeFree(device, buffer, site);
    }

    @Override
    public void agentFault(Throwable fault) {
        findings.agentFault(fault);
    }

    @Override
    public void afterCreatePool(Object pool, int site) {
        if (pools != null) {
            pools.created(pool, site);
        }
    }

    @Override
    public void afterPoolAlloc(Object pool, long dma, int site) {
        if (pools != null) {
            pools.allocated(pool, dma, site);
        }
    }

    @Override
    public void afterPoolAllocBlock(Object pool, Object block, int site) {
        if (pools != null && block instanceof io.dmadirect.DmaPool.Block) {
            pools.allocated(pool, ((io.dmadirect.DmaPool.Block) block).dmaAddress(), site);
        }
    }

    @Override
    public void beforePoolFree(Object pool, long dma, int site) {
        if (pools != null) {
            pools.beforeFree(pool, dma, site);
        }
    }

    @Override
    public void beforePoolDestroy(Object pool, int site) {
        if (pools != null) {
            pools.beforeDestroy(pool, site);
        }
    }

    /**
     * Bytes of coherent memory allocated and not yet freed, or -1 when unknown. Trace counts bytes
     * allocated minus bytes freed, which after a dynamic attach also subtracts the frees of buffers
     * allocated before it (it went negative in the rig); debug's entries then give the exact figure for
     * the buffers allocated since, and trace alone cannot tell.
     */
    long liveBytes() {
        if (trackedFromStart && tracer != null) {
            return tracer.liveBytes();
        }
        if (debug == null) {
            return -1;
        }
        long bytes = 0;
        for (DebugChecks.Entry entry : debug.liveEntries()) {
            bytes += entry.buffer.size();
        }
        return bytes;
    }

    static AgentDispatcher current() {
        Dispatcher d = DmaHooks.dispatcher;
        return d instanceof AgentDispatcher ? (AgentDispatcher) d : null;
    }
}
