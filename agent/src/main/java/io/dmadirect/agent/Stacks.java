package io.dmadirect.agent;

import java.util.Arrays;

/** Stacks as the driver sees them: the agent's and the library's own frames at the top are cut. */
final class Stacks {
    private static final int MAX_FRAMES = 24;

    private Stacks() {
    }

    static StackTraceElement[] capture() {
        return cut(new Throwable().getStackTrace());
    }

    /** {@code all} without the agent's and the library's frames at the top, at most 24 frames. */
    static StackTraceElement[] cut(StackTraceElement[] all) {
        int from = 0;
        while (from < all.length && isInternal(all[from].getClassName())) {
            from++;
        }
        return Arrays.copyOfRange(all, from, Math.min(all.length, from + MAX_FRAMES));
    }

    /** The first driver frame as a call-site text, for callers the agent did not rewrite. */
    static String siteOf(StackTraceElement[] stack) {
        AgentDispatcher running = AgentDispatcher.current();
        return siteOf(stack, running == null ? null : running.options);
    }

    /**
     * As {@link #siteOf(StackTraceElement[])}; when the caller's class is driver code by {@code options}, the
     * hint to set {@code packages=} would mislead: say what else leaves a driver's call unrewritten.
     */
    static String siteOf(StackTraceElement[] stack, AgentOptions options) {
        if (stack.length == 0) {
            return CallSites.UNKNOWN;
        }
        if (options != null && options.isDriverClass(stack[0].getClassName())) {
            return stack[0] + " (caller not rewritten, though it is driver code: a method already running when the"
                    + " agent was attached, or a class the agent failed to rewrite: see its stderr)";
        }
        return stack[0] + " (caller not rewritten; set packages=)";
    }

    private static boolean isInternal(String className) {
        return className.startsWith("io.dmadirect.") && !className.startsWith("io.dmadirect.drivers.")
                || className.startsWith("java.lang.Thread");
    }
}
