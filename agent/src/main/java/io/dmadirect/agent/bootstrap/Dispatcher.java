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

    /** Before a streaming call: {@code map}, {@code unmap}, {@code syncForCpu}, {@code syncForDevice}. */
    Throwable beforeStreaming(String op, Object device, Object[] args, int site);

    void afterStreaming(String op, Object device, Object[] args, Object result, Throwable thrown, int site,
            long startNanos);

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
        public Throwable beforeStreaming(String op, Object device, Object[] args, int site) {
            return null;
        }

        @Override
        public void afterStreaming(String op, Object device, Object[] args, Object result, Throwable thrown,
                int site, long startNanos) {
        }
    };
}
