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

    /** What the advice keeps per thread: one {@code ThreadLocal} lookup per call serves all of it. */
    public static final class PerThread {
        /** The thread this state belongs to: what the striped cache compares. */
        final Thread owner;
        /** The call site the caller announced, until the advice takes it. */
        public int site;
        /** Counts calls, to time the first {@link #TIME_ALL} and then one call in {@link #SAMPLE}. */
        public int tick;
        /** True while the agent itself frees memory (the end of a quarantine). */
        public boolean releasing;
        /** The call site of the scatter list's close in {@link #sgUnmap}. */
        public int sgSite;
        /** The {@code DmaPool} whose block allocation runs on this thread: a page it allocates is the pool's. */
        public Object pool;
        /**
         * Mode {@code trace}'s counters of this thread, per call site (the agent's {@code Tracer} lays them out):
         * typed here, so that the hot path reads them with one plain load, no cast. Only this thread writes
         * them; a grown array is published with a release store and a report reads it with an acquire load
         * (the agent's {@code Tracer}), so that the hot path's read is not volatile: a volatile read is an
         * acquire barrier to the compiler, which then cannot keep the thread state's fields in registers across it.
         */
        public long[] traceSites = new long[0];
        /** Mode {@code trace}'s counts per allocator path and zone of this thread; null until it first counts. */
        public long[] tracePathZone;
        /** The agent's per-thread record of recent frees and unmaps (debug mode). */
        public Object history;
        /** The scatter list whose {@code close()} is running on this thread: its segments are unmapped as scatter-gather. */
        public Object sgUnmap;
        /** A {@code DmaMappingException} a map call threw on this thread, until the driver acts on it. */
        public Throwable mapError;
        /** The call site of the map that threw {@link #mapError}. */
        public int mapErrorSite;
        /** The driver's catch handler that caught {@link #mapError}, 0 while none has. */
        public int mapErrorCaught;

        PerThread(Thread owner) {
            this.owner = owner;
        }
    }

    /**
     * Latency is measured for one call in this many, per thread, once {@link #TIME_ALL} calls were timed:
     * a {@code System.nanoTime()} costs about 17 ns here, as much as a direct map/unmap pair, so timing
     * each call would cost more than the call. 1 in 8 still cost 8 ns a pair; 1 in 64 cost 1 (in a profile of
     * a traced direct map/unmap pair, 7% of its samples were in the vDSO clock); 1 in 1024 costs a tenth, and
     * a driver's hot path still gives thousands of timed calls a second.
     */
    public static final int SAMPLE = 1024;

    /** Each thread's first calls are all timed: a driver's rare calls (setup, the admin queue) are then seen too. */
    public static final int TIME_ALL = 256;

    private static final ThreadLocal<PerThread> THREAD = ThreadLocal.withInitial(() -> new PerThread(Thread.currentThread()));

    /**
     * A cache in front of {@link #THREAD}, striped by thread id: a hit is one array load and one compare
     * instead of a {@code ThreadLocal} hash lookup, and it is written only on a miss, so threads with
     * different stripes never share a written line once warm. It holds at most {@link #STRIPES} threads
     * reachable after they end, until another thread takes the stripe.
     */
    private static final int STRIPES = 64;
    private static final PerThread[] CACHE = new PerThread[STRIPES];

    private DmaHooks() {
    }

    /** The call site the caller announced, taken (reset to 0) so that a nested call does not see it. */
    public static int takeSite() {
        PerThread t = thread();
        int site = t.site;
        t.site = 0;
        return site;
    }

    /**
     * A pool's block allocation begins: the pages it may allocate on this thread are the pool's, not its
     * caller's. Returns the call site the caller announced, taken as {@link #takeSite()} does.
     */
    public static int enterPool(Object pool) {
        PerThread t = thread();
        t.pool = pool;
        int site = t.site;
        t.site = 0;
        return site;
    }

    /** Called by rewritten driver code just before it calls the DMA API. */
    public static void site(int id) {
        thread().site = id;
    }

    /** This thread's state; the advice takes the announced site from it (0 when the caller is not rewritten). */
    @SuppressWarnings("deprecation") // Thread.threadId() is JDK 19+; getId() is the same number
    public static PerThread thread() {
        Thread current = Thread.currentThread();
        int stripe = (int) current.getId() & (STRIPES - 1);
        PerThread t = CACHE[stripe];
        if (t != null && t.owner == current) {
            return t;
        }
        t = THREAD.get();
        CACHE[stripe] = t;
        return t;
    }

    /** A start time for the calls that are timed, 0 for the others. */
    public static long startTime(PerThread t) {
        int n = t.tick++; // wraps after 2^32 calls, when the first TIME_ALL are timed again: harmless
        return (n & (SAMPLE - 1)) == 0 || (n >= 0 && n < TIME_ALL) ? System.nanoTime() : 0L;
    }

    /** Called by rewritten driver code at the start of a handler that can catch a {@code DmaMappingException}. */
    public static void caught(Throwable exception, int handlerSite) {
        PerThread t = thread();
        if (t.mapError != null && exception == t.mapError && t.mapErrorCaught == 0) {
            t.mapErrorCaught = handlerSite;
            dispatcher.mapErrorCaught(t);
        }
    }

    /** Called by rewritten driver code just before it throws: the driver passes a map error on. */
    public static void throwing(Throwable thrown) {
        PerThread t = thread();
        Throwable error = t.mapError;
        if (error != null) {
            Throwable c = thrown;
            for (int depth = 0; c != null && depth < 16; depth++, c = c.getCause()) {
                if (c == error) {
                    dispatcher.mapErrorHandled(t);
                    return;
                }
            }
        }
    }

    /**
     * The advice's exception handler: a fault inside the agent's bookkeeping, suppressed so that the driver's
     * call goes on as without the agent, and handed to the dispatcher to report. Never throws.
     */
    public static void agentFault(Throwable fault) {
        try {
            dispatcher.agentFault(fault);
        } catch (Throwable ignored) {
            // Reporting the fault failed too: the driver's call must still go on.
        }
    }

    /** Called by rewritten driver code just before {@code ByteBuffer.allocateDirect} or {@code Unsafe.allocateMemory}. */
    public static void nonDmaAllocation(int site, String what) {
        dispatcher.nonDmaAllocation(site, what);
    }
}
