package io.dmadirect.agent;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The errors the debug checks found. Each is printed when it happens, as the kernel's dma-debug warns,
 * and kept for the report at exit. Every line starts with {@code DMA-API [check]:} so that a reader, or
 * a grep, can tell which check fired.
 */
final class Findings {
    /** One error: which check, what the driver did, where, and the stack. */
    record Finding(String check, String message, String site, List<String> stack, String remedy) {
        String render() {
            StringBuilder b = new StringBuilder();
            b.append("DMA-API [").append(check).append("]: ").append(message).append('\n');
            b.append("  call site: ").append(site).append('\n');
            for (String frame : stack) {
                b.append("    at ").append(frame).append('\n');
            }
            b.append("  remedy: ").append(remedy).append('\n');
            return b.toString();
        }
    }

    private static final int KEEP = 1000;
    private final AgentOptions options;
    private final PrintStream out;
    private final List<Finding> kept = new ArrayList<>();
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong outsidePackages = new AtomicLong();
    private final AtomicLong agentFaults = new AtomicLong();
    /** The checks whose fault was printed already: each is printed once, then counted. */
    private final java.util.Set<String> faultyChecks = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Findings(AgentOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /**
     * Reports an error. With {@code packages=}, an error whose stack passes through none of those
     * packages is counted but not reported: it is not the driver's.
     */
    void report(String check, String message, String site, StackTraceElement[] stack, String remedy) {
        if (!options.packages.isEmpty() && !inPackages(stack)) {
            outsidePackages.incrementAndGet();
            return;
        }
        List<String> frames = new ArrayList<>();
        for (StackTraceElement frame : stack) {
            frames.add(frame.toString());
        }
        Finding finding = new Finding(check, message, site, frames, remedy);
        count.incrementAndGet();
        synchronized (kept) {
            if (kept.size() < KEEP) {
                kept.add(finding);
            }
        }
        out.print("dmadirect-agent: " + finding.render());
        out.flush();
    }

    /**
     * A fault inside the agent's own bookkeeping (the driver's call went on without that check): printed once
     * per check, named by the agent method it happened in, and counted every time.
     */
    void agentFault(Throwable fault) {
        agentFaults.incrementAndGet();
        String check = checkOf(fault);
        if (faultyChecks.add(check)) {
            out.print("dmadirect-agent: internal fault in the agent's " + check + " (that check is unreliable from"
                    + " here on; the driver's call went on as without the agent): " + fault + "\n"
                    + "  at " + (fault.getStackTrace().length > 0 ? fault.getStackTrace()[0] : "?") + "\n"
                    + "  please report it to the dmadirect project; later faults of this check are only counted\n");
            out.flush();
        }
    }

    /** The innermost agent method on the fault's stack, {@code Class.method}, or its first frame. */
    static String checkOf(Throwable fault) {
        StackTraceElement[] stack = fault.getStackTrace();
        for (StackTraceElement frame : stack) {
            String c = frame.getClassName();
            if (c.startsWith("io.dmadirect.agent.") && !c.startsWith("io.dmadirect.agent.bootstrap.")
                    && !c.startsWith("io.dmadirect.agent.shaded.")) {
                return c.substring(c.lastIndexOf('.') + 1) + "." + frame.getMethodName();
            }
        }
        return stack.length > 0 ? stack[0].getClassName() + "." + stack[0].getMethodName() : fault.getClass().getName();
    }

    long agentFaults() {
        return agentFaults.get();
    }

    private boolean inPackages(StackTraceElement[] stack) {
        for (StackTraceElement frame : stack) {
            if (options.isDriverClass(frame.getClassName())) {
                return true;
            }
        }
        return false;
    }

    long count() {
        return count.get();
    }

    /**
     * Why {@code failOnError=true} fails the run, or null when it passes. The agent's own faults fail it too:
     * a fault means a check did not run for that call, so "no finding" no longer proves the driver clean, and
     * a test gate that passed then would pass on incomplete checks.
     */
    String failure() {
        long errors = count.get();
        long faults = agentFaults.get();
        if (errors == 0 && faults == 0) {
            return null;
        }
        return (errors > 0 ? errors + " DMA-API error(s)" : "") + (errors > 0 && faults > 0 ? " and " : "")
                + (faults > 0 ? faults + " internal fault(s) of the agent (its checks were incomplete)" : "");
    }

    long outsidePackages() {
        return outsidePackages.get();
    }

    List<Finding> list() {
        synchronized (kept) {
            return List.copyOf(kept);
        }
    }
}
