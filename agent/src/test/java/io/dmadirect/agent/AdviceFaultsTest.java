package io.dmadirect.agent;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.agent.bootstrap.Dispatcher;
import io.dmadirect.agent.bootstrap.DmaHooks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A fault in the agent's own bookkeeping is reported once per check and counted, and never reaches the driver:
 * the real free advice, woven by {@link AdviceFaults#guarded} into a stand-in device whose {@code freeCoherent}
 * the debug checks cannot handle (it is no {@code DmaDevice}, so their cast fails inside the check).
 */
class AdviceFaultsTest {
    /** Stands in for a device: the advice sees its {@code freeCoherent}, the debug checks cannot cast it. */
    public static class StandInDevice {
        public int frees;

        public String freeCoherent(Object buffer) {
            frees++;
            return "freed " + buffer;
        }
    }

    @AfterEach
    void uninstall() {
        DmaHooks.dispatcher = Dispatcher.NONE;
    }

    @Test
    void aBookkeepingFaultIsReportedOncePerCheckAndTheDriversCallGoesOn() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        AgentOptions options = AgentOptions.parse("mode=debug");
        Findings findings = new Findings(options, new PrintStream(err, true, StandardCharsets.UTF_8));
        DmaHooks.dispatcher = new AgentDispatcher(options, findings, true);
        Class<?> woven = new ByteBuddy().redefine(StandInDevice.class)
                .visit(AdviceFaults.guarded(DeviceAdvice.Free.class).on(named("freeCoherent")))
                .make().load(getClass().getClassLoader(), ClassLoadingStrategy.Default.CHILD_FIRST).getLoaded();
        Object device = woven.getConstructor().newInstance();
        Method free = woven.getMethod("freeCoherent", Object.class);

        assertEquals("freed a", free.invoke(device, "a"));
        assertEquals("freed b", free.invoke(device, "b"));

        assertEquals(2, woven.getField("frees").getInt(device), "the driver's call ran both times");
        assertEquals(2, findings.agentFaults(), "each fault is counted");
        assertEquals(0, findings.count(), "a fault of the agent is not the driver's error");
        String printed = err.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("dmadirect-agent: internal fault in the agent's DebugChecks.notLive"), printed);
        assertTrue(printed.contains("ClassCastException"), printed);
        assertEquals(printed.indexOf("internal fault"), printed.lastIndexOf("internal fault"),
                "printed once per check:\n" + printed);
        assertTrue(Reports.text((AgentDispatcher) DmaHooks.dispatcher).contains("agent: 2 internal fault(s)"));
        // failOnError=true fails on the agent's faults too: the checks of those calls did not run.
        assertEquals("2 internal fault(s) of the agent (its checks were incomplete)", findings.failure());
    }

    @Test
    void failOnErrorPassesOnlyWithNeitherFindingsNorFaults() {
        AgentOptions options = AgentOptions.parse("mode=debug");
        Findings findings = new Findings(options, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8));
        assertEquals(null, findings.failure(), "clean");
        findings.agentFault(new IllegalStateException("forced"));
        findings.report("double-free", "forced", "site", new StackTraceElement[0], "remedy");
        assertEquals("1 DMA-API error(s) and 1 internal fault(s) of the agent (its checks were incomplete)",
                findings.failure());
    }

    @Test
    void withoutTheHandlerTheSameFaultWouldBeDroppedUnseen() throws Exception {
        // The reason for AdviceFaults: Byte Buddy's plain suppress gives the dispatcher nothing to count.
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        AgentOptions options = AgentOptions.parse("mode=debug");
        Findings findings = new Findings(options, new PrintStream(err, true, StandardCharsets.UTF_8));
        DmaHooks.dispatcher = new AgentDispatcher(options, findings, true);
        Class<?> woven = new ByteBuddy().redefine(StandInDevice.class)
                .visit(net.bytebuddy.asm.Advice.to(DeviceAdvice.Free.class).on(named("freeCoherent")))
                .make().load(getClass().getClassLoader(), ClassLoadingStrategy.Default.CHILD_FIRST).getLoaded();
        Object device = woven.getConstructor().newInstance();
        assertEquals("freed a", woven.getMethod("freeCoherent", Object.class).invoke(device, "a"));
        assertEquals(0, findings.agentFaults());
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }
}
