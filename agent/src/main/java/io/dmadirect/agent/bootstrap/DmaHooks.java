package io.dmadirect.agent.bootstrap;

/**
 * The only class that instrumented code calls. The agent puts it on the bootstrap class path, so it is
 * visible from every class loader, and it holds no reference to the library: arguments travel as
 * {@code Object} to the {@link Dispatcher} the agent installs.
 *
 * <p>Call sites: the agent rewrites driver classes so that each call into the DMA API is preceded by
 * {@link #site(int)} with a number fixed at instrumentation time. The advice in the library then takes
 * that number with {@link #takeSite()}; no stack walk is needed to know who called.
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

    private static final ThreadLocal<int[]> SITE = ThreadLocal.withInitial(() -> new int[1]);

    private DmaHooks() {
    }

    /** Called by rewritten driver code just before it calls the DMA API. */
    public static void site(int id) {
        SITE.get()[0] = id;
    }

    /** The call site announced by the caller, or 0 when the caller is not instrumented; clears it. */
    public static int takeSite() {
        int[] slot = SITE.get();
        int id = slot[0];
        slot[0] = 0;
        return id;
    }

    /** Called by rewritten driver code just before {@code ByteBuffer.allocateDirect} or {@code Unsafe.allocateMemory}. */
    public static void nonDmaAllocation(int site, String what) {
        dispatcher.nonDmaAllocation(site, what);
    }
}
