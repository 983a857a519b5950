package io.dmadirect.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code dmadirect agent attach}: usage and a missing agent jar. The attach itself is the agent's AttachIT. */
class AgentCommandTest {

    @Test
    void attachHasHelp() {
        HostCommandsTest.Run r = HostCommandsTest.run("agent", "attach", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("PID"), r.out());
    }

    @Test
    void aMissingAgentJarIsAClearFailure() {
        HostCommandsTest.Run r = HostCommandsTest.run("agent", "attach", "--jar", "/nonexistent/dmadirect-agent.jar", "1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no agent jar at /nonexistent/dmadirect-agent.jar"), r.err());
        assertTrue(r.err().contains("mvn -B -pl agent -am package"), r.err());
    }

    @Test
    void theAttachingJvmWritesItsCrashReportWhereThisOneWould() {
        assertEquals(java.util.List.of("-XX:ErrorFile=/results/hs_err_%p.log"), AgentCommand.crashReportFlags(
                java.util.List.of("-Xmx64m", "-XX:ErrorFile=/results/hs_err_%p.log", "-XX:+UseSerialGC")));
        assertEquals(java.util.List.of(), AgentCommand.crashReportFlags(java.util.List.of("-Xmx64m")));
    }

    @Test
    void aPidMustBeANumber() {
        assertEquals(2, HostCommandsTest.run("agent", "attach", "not-a-pid").code());
    }
}
