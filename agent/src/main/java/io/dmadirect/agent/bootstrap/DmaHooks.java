package io.dmadirect.agent.bootstrap;

/**
 * The only class that instrumented code calls. The agent puts it on the bootstrap class path, so it is
 * visible from every class loader, and it holds no reference to the library: arguments travel as
 * {@code Object} to the {@link Dispatcher} the agent installs.
 *
 * <p>Call sites: the agent rewrites driver classes so that each call into the DMA API is preceded by
 * {@link #site(int)} with a number fixed at instrumentation time. The advice in the library then takes
 * that number from {@link #thread()}; no stack walk is needed to know who called.
 */
public final class DmaHooks {
    /** Returned by {@link Dispatcher#beforeFree} to skip the free without an error. */
    public static final Throwable SKIP = new Throwable("dmadirect-agent: skip", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    /** The dispatcher; {@link Dispatcher#NONE} until the agent installs itself. */
    public static volatile Dispatcher dispatcher = Dispatcher.NONE;

    /** Inject: the widest mask a device may set, in bits; 0 leaves masks alone. */
    public static volatile int maskBits;

    /** Inject: every streaming mapping bounces. */
    public static volatile boolean forceBounce;

    /** What the advice keeps per thread: one {@code ThreadLocal} lookup per call serves all of it. */
    public static final class PerThread {
        /** The call site the caller announced, until the advice takes it. */
        public int site;
        /** Counts calls, to time one call in {@link #SAMPLE}. */
        public int tick;
        /** True while the agent itself frees memory (the end of a quarantine). */
        public boolean releasing;
        /** The agent's per-thread counters. */
        public Object agent;
    }

    /** Latency is measured for one call in this many, per thread: timing each call would cost more than the call. */
    public static final int SAMPLE = 8;

    private static final ThreadLocal<PerThread> THREAD = ThreadLocal.withInitial(PerThread::new);

    private DmaHooks() {
    }

    /** Called by rewritten driver code just before it calls the DMA API. */
    public static void site(int id) {
        THREAD.get().site = id;
    }

    /** This thread's state; the advice takes the announced site from it (0 when the caller is not rewritten). */
    public static PerThread thread() {
        return THREAD.get();
    }

    /** A start time for the calls that are timed, 0 for the others. */
    public static long startTime(PerThread t) {
        return (++t.tick & (SAMPLE - 1)) == 0 ? System.nanoTime() : 0L;
    }

    /** Called by rewritten driver code just before {@code ByteBuffer.allocateDirect} or {@code Unsafe.allocateMemory}. */
    public static void nonDmaAllocation(int site, String what) {
        dispatcher.nonDmaAllocation(site, what);
    }
}
