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
    void afterMap(Object device, Object what, int offset, long size, Object attrs, Object result, Throwable thrown, int site, long startNanos,
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
    // ---- The primitive streaming API and mapResource (addresses as longs), and the scatter list's unmap as one
    // call. Defaults do nothing, so NONE needs no change.

    /** After {@code mapSingle}: {@code buffer} null for the raw-address form, where {@code start} is the CPU address. */
    default void afterMapSingle(Object device, Object buffer, long start, long size, Object direction, int attrs,
            long dma, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
    }

    /** Before {@code unmapSingle} ({@code kind} 0) or {@code unmapResource} (2); what {@link #afterUnmapAddress} gets back. */
    default Object beforeUnmapAddress(Object device, long dma, long size, Object direction, int kind, int site,
            DmaHooks.PerThread thread) {
        return null;
    }

    default void afterUnmapAddress(Object entry, long size, Throwable thrown, int site, long startNanos,
            DmaHooks.PerThread thread) {
    }

    default void afterMapResource(Object device, long size, Object direction, long dma, Throwable thrown, int site,
            long startNanos, DmaHooks.PerThread thread) {
    }

    default void beforeSyncAddress(Object device, long dma, long size, Object direction, boolean forCpu, int site,
            DmaHooks.PerThread thread) {
    }

    default void afterSyncAddress(long bytes, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
    }

    default void afterMapSgArray(Object device, Object buffers, int nents, Object direction, int attrs, long[] out,
            Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
    }

    default Object beforeUnmapSgArray(Object device, long[] addresses, int[] lengths, int nents, Object direction,
            int site, DmaHooks.PerThread thread) {
        return null;
    }

    default void afterUnmapSgArray(Object entries, int[] lengths, int nents, Throwable thrown, int site,
            long startNanos, DmaHooks.PerThread thread) {
    }

    default void beforeSyncSgArray(Object device, long[] addresses, int[] lengths, int nents, Object direction,
            boolean forCpu, int site, DmaHooks.PerThread thread) {
    }

    /** After a scatter list's {@code close()}: one {@code dma_unmap_sg} call, as its map was one call. */
    default void afterUnmapSg(Object list, Throwable thrown, int site, long startNanos, DmaHooks.PerThread thread) {
    }

    /** After {@code allocCoherent} failed: a buffer to return instead (the agent's quarantine let go), or null. */
    default Object retryAlloc(Object device, long size, Object attrs, Throwable thrown, DmaHooks.PerThread thread) {
        return null;
    }

    /**
     * After {@code allocPages} or {@code allocNoncontiguous} ({@code method}) failed: a buffer to return instead
     * (the agent's quarantines let go), or null.
     */
    default Object retryAllocPages(Object device, String method, long size, Object direction, Object attrs,
            Throwable thrown, DmaHooks.PerThread thread) {
        return null;
    }

    /** A fault inside the agent's own bookkeeping, which the advice suppressed: report it, never throw. */
    default void agentFault(Throwable fault) {
    }

    /** After {@code allocPages} or {@code allocNoncontiguous}: the buffer. */
    default void afterAllocPages(Object device, Object buffer, int site) {
    }

    /**
     * Before {@code freePages} or {@code freeNoncontiguous}: null to free, {@link DmaHooks#SKIP} to skip the free
     * silently (the buffer went to quarantine), or an exception to throw instead of freeing.
     */
    default Throwable beforeFreePages(Object device, Object buffer, int site) {
        return null;
    }

    /** After a device's {@code createPool} ({@code dma_pool_create}): the pool and the driver's call site. */
    default void afterCreatePool(Object pool, int site) {
    }

    /** After a {@code DmaPool}'s {@code alloc}/{@code zalloc}. */
    default void afterPoolAlloc(Object pool, long dma, int site) {
    }

    /** After a {@code DmaPool}'s {@code allocBlock}/{@code zallocBlock}. */
    default void afterPoolAllocBlock(Object pool, Object block, int site) {
    }

    /** Before a {@code DmaPool}'s {@code free}. */
    default void beforePoolFree(Object pool, long dma, int site) {
    }

    /** Before a {@code DmaPool}'s {@code close()} ({@code dma_pool_destroy}). */
    default void beforePoolDestroy(Object pool, int site) {
    }

    /** After a simulated platform's {@code busMaster(device, bits)}: which device's DMA engine it is. */
    default void afterBusMaster(Object busMaster, Object device) {
    }

    /**
     * Before a simulated device's DMA read or write of {@code length} bytes at {@code dmaAddress}: a fault to
     * record instead of the access (the memory was freed or unmapped while the device could still reach it),
     * or null to let it run.
     */
    default String beforeDeviceAccess(Object busMaster, long dmaAddress, long length, boolean write) {
        return null;
    }

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
        public void afterMap(Object device, Object what, int offset, long size, Object attrs, Object result, Throwable thrown, int site,
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
