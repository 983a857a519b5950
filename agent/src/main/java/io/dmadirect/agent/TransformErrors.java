package io.dmadirect.agent;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.utility.JavaModule;

/**
 * Byte Buddy's transformation errors, said once per type with their cause: a type the agent meant to
 * rewrite and could not (a referenced type its loader cannot resolve, say) otherwise runs unrewritten, and
 * its call sites show up only as "caller not rewritten" in the report.
 */
final class TransformErrors extends AgentBuilder.Listener.Adapter {
    private final PrintStream out;
    private final Set<String> said = ConcurrentHashMap.newKeySet();
    private final AtomicLong count = new AtomicLong();

    TransformErrors(PrintStream out) {
        this.out = out;
    }

    @Override
    public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
            Throwable throwable) {
        count.incrementAndGet();
        if (!said.add(typeName)) {
            return;
        }
        Throwable root = throwable;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        out.println("dmadirect-agent: could not rewrite " + typeName + " ("
                + (loaded ? "retransforming the loaded class" : "as it was loaded") + ", loader " + classLoader
                + "): " + throwable + (root == throwable ? "" : "; cause: " + root)
                + "; it runs unchanged (its DMA-API calls are counted at no call site, and injection and the"
                + " checks of its own code are off)");
    }

    /** Transformation errors so far, each type's repeats included. */
    long count() {
        return count.get();
    }

    /** The types that failed, each once. */
    Set<String> types() {
        return Set.copyOf(said);
    }
}
