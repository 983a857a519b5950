package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.implementation.bytecode.member.MethodInvocation;

/**
 * The advice's handler for a fault in the agent's own bookkeeping. Byte Buddy's {@code suppress = Throwable.class}
 * alone drops the exception without a word, so a broken check would look like a clean driver; this handler
 * still never lets it reach the driver, but hands it to {@link DmaHooks#agentFault}, which the agent reports
 * once per check and counts.
 */
final class AdviceFaults {
    private static final Advice.ExceptionHandler REPORT = reportingHandler();

    private AdviceFaults() {
    }

    /** {@code Advice.to(adviceClass)} whose suppressed faults are reported, not dropped. */
    static Advice guarded(Class<?> adviceClass) {
        return Advice.to(adviceClass).withExceptionHandler(REPORT);
    }

    private static Advice.ExceptionHandler reportingHandler() {
        try {
            // The suppressed throwable is on the operand stack; agentFault(Throwable) consumes it and returns void.
            return new Advice.ExceptionHandler.Simple(MethodInvocation.invoke(new MethodDescription.ForLoadedMethod(
                    DmaHooks.class.getMethod("agentFault", Throwable.class))));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("DmaHooks.agentFault(Throwable) is missing from the agent's bootstrap classes", e);
        }
    }
}
