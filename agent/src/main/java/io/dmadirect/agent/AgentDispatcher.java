package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.Dispatcher;
import io.dmadirect.agent.bootstrap.DmaHooks;

/** Routes the advice's calls to the modes that are on: {@link Injector}, {@link DebugChecks}, {@link Tracer}. */
final class AgentDispatcher implements Dispatcher {
    final AgentOptions options;
    final Tracer tracer;
    final DebugChecks debug;
    final Injector injector;
    final Findings findings;

    AgentDispatcher(AgentOptions options, Findings findings, boolean trackedFromStart) {
        this.options = options;
        this.findings = findings;
        this.tracer = options.trace ? new Tracer() : null;
        this.debug = options.debug ? new DebugChecks(options, findings, trackedFromStart) : null;
        this.injector = options.inject ? new Injector(options) : null;
    }

    @Override
    public Throwable beforeAlloc(Object device, long size, int site) {
        Throwable injected = injector == null ? null : injector.allocation(device, size, site);
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
            debug.allocated(device, buffer, site);
        }
    }

    @Override
    public Throwable beforeFree(Object device, Object buffer, int site, DmaHooks.PerThread thread) {
        return debug == null || thread.releasing ? null : debug.beforeFree(device, buffer, site);
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
    public Throwable beforeStreaming(String op, Object device, Object[] args, int site) {
        return null;
    }

    @Override
    public void afterStreaming(String op, Object device, Object[] args, Object result, Throwable thrown, int site,
            long startNanos) {
    }

    static AgentDispatcher current() {
        Dispatcher d = DmaHooks.dispatcher;
        return d instanceof AgentDispatcher ? (AgentDispatcher) d : null;
    }
}
