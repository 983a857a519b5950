package io.dmadirect.agent.bootstrap;

/**
 * What the inlined advice calls into. It lives on the bootstrap class path, like {@link DmaHooks}, so
 * that a driver loaded by any class loader can see it; the implementation lives in the agent. Every
 * parameter is {@code Object}, so that this type names nothing of the library.
 */
public interface Dispatcher {

    /** Before {@code allocCoherent}: an exception to throw instead of allocating (injection), or null. */
    Throwable beforeAlloc(Object device, long size, int site);

    void afterAlloc(Object device, long size, Object buffer, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread);

    /**
     * Before {@code freeCoherent}: null to free, {@link DmaHooks#SKIP} to skip the free silently (the
     * buffer went to quarantine), or an exception to throw instead of freeing.
     */
    Throwable beforeFree(Object device, Object buffer, int site, DmaHooks.PerThread thread);

    void afterFree(Object device, Object buffer, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread);

    /** Before a device's {@code close()}: the leak check at device release. */
    void beforeClose(Object device, int site);

    /** A call of {@code ByteBuffer.allocateDirect} or {@code Unsafe.allocateMemory} from driver code. */
    void nonDmaAllocation(int site, String what);

    /**
     * Before {@code map} or {@code mapSg}: an exception to throw instead of mapping (injection), or null.
     * {@code size} is the bytes asked for, -1 for a scatter list (the dispatcher sums it when it needs to).
     */
    Throwable beforeMap(Object device, Object what, long size, int site, DmaHooks.PerThread thread);

    /** After {@code map} or {@code mapSg}: {@code result} is the mapping or the scatter list, null when it threw. */
    void afterMap(Object device, Object what, long size, Object result, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread);

    /** Before an unmap, by {@code device.unmap(mapping)} or {@code mapping.close()} (then {@code device} is null). */
    void beforeUnmap(Object device, Object mapping, int site, DmaHooks.PerThread thread);

    void afterUnmap(Object device, Object mapping, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread);

    /** Before a sync; {@code length} -1 for the whole mapping. */
    void beforeSync(Object device, Object mapping, long offset, long length, Object direction, boolean forCpu, int site,
            DmaHooks.PerThread thread);

    void afterSync(Object device, Object mapping, long length, boolean forCpu, Throwable thrown, int site,
            long startNanos, DmaHooks.PerThread thread);

    /** Before a scatter list's {@code close()} ({@code dma_unmap_sg}); its segments' unmaps follow. */
    void beforeUnmapSg(Object list, int site, DmaHooks.PerThread thread);

    /** A driver handler caught the thread's pending map error. */
    void mapErrorCaught(DmaHooks.PerThread thread);

    /** The driver passed the thread's pending map error on (threw it, or something caused by it). */
    void mapErrorHandled(DmaHooks.PerThread thread);

    /** Does nothing: the state before the agent installs its dispatcher. */
    Dispatcher NONE = new Dispatcher() {
        @Override
        public Throwable beforeAlloc(Object device, long size, int site) {
            return null;
        }

        @Override
        public void afterAlloc(Object device, long size, Object buffer, Throwable thrown, int site, long startNanos,
                DmaHooks.PerThread thread) {
        }

        @Override
        public Throwable beforeFree(Object device, Object buffer, int site, DmaHooks.PerThread thread) {
            return null;
        }

        @Override
        public void afterFree(Object device, Object buffer, Throwable thrown, int site, long startNanos,
                DmaHooks.PerThread thread) {
        }

        @Override
        public void beforeClose(Object device, int site) {
        }

        @Override
        public void nonDmaAllocation(int site, String what) {
        }

        @Override
        public Throwable beforeMap(Object device, Object what, long size, int site, DmaHooks.PerThread thread) {
            return null;
        }

        @Override
        public void afterMap(Object device, Object what, long size, Object result, Throwable thrown, int site,
                long startNanos, DmaHooks.PerThread thread) {
        }

        @Override
        public void beforeUnmap(Object device, Object mapping, int site, DmaHooks.PerThread thread) {
        }

        @Override
        public void afterUnmap(Object device, Object mapping, Throwable thrown, int site, long startNanos,
                DmaHooks.PerThread thread) {
        }

        @Override
        public void beforeSync(Object device, Object mapping, long offset, long length, Object direction,
                boolean forCpu, int site, DmaHooks.PerThread thread) {
        }

        @Override
        public void afterSync(Object device, Object mapping, long length, boolean forCpu, Throwable thrown, int site,
                long startNanos, DmaHooks.PerThread thread) {
        }

        @Override
        public void beforeUnmapSg(Object list, int site, DmaHooks.PerThread thread) {
        }

        @Override
        public void mapErrorCaught(DmaHooks.PerThread thread) {
        }

        @Override
        public void mapErrorHandled(DmaHooks.PerThread thread) {
        }
    };
}
