package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * What the agent tests in the rig need: the agent jar and the {@code dmadirect} command's jar (copied by
 * {@code run.sh} to a snapshot, as the classes are, and named by {@code -Dhil.agentJar} and
 * {@code -Dhil.cliJar}), child JVMs, and the agent's MBean in this JVM once it is attached here.
 */
final class AgentRig {
    /** The MBean the agent registers in the JVM it runs in. */
    static final String MBEAN = "io.dmadirect:type=Agent";
    /** Start-up flags of a child JVM: under TCG every JVM start costs seconds, C2 only adds to it. */
    static final List<String> CHILD_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto");

    private AgentRig() {
    }

    static Path agentJar() {
        return jar("hil.agentJar", "the agent jar (agent/target/dmadirect-agent.jar)");
    }

    static Path cliJar() {
        return jar("hil.cliJar", "the dmadirect command's jar (java/cli/target/dmadirect.jar)");
    }

    private static Path jar(String property, String what) {
        String path = System.getProperty(property);
        if (path == null || !Files.isRegularFile(Path.of(path))) {
            fail(what + " is not at -D" + property + "=" + path + ": run the rig with test-rigs/hil/run.sh, which builds"
                    + " and snapshots it");
        }
        return Path.of(path);
    }

    /** The results share of the rig (evidence, logs, reports), or a temporary directory outside it. */
    static Path results() throws IOException {
        String dir = System.getenv("DMADIRECT_RIG_RESULTS");
        return dir != null ? Path.of(dir) : Files.createTempDirectory("hil-agent");
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * {@code dmadirect ARGS} as a user runs it ({@code java -jar dmadirect.jar ARGS}); the command finds the
     * agent jar through {@code DMADIRECT_AGENT_JAR}, which points at the snapshot.
     */
    static RigProcess.Result cli(String name, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(CHILD_FLAGS);
        command.add(errorFile());
        command.addAll(List.of("-jar", cliJar().toString()));
        command.addAll(List.of(args));
        return RigProcess.run(name, command, Map.of("DMADIRECT_AGENT_JAR", agentJar().toString()), 240);
    }

    /** A child JVM on this JVM's class path running {@code mainClass}, with the agent from start-up. */
    static RigProcess.Result childWithAgent(String name, String agentOptions, Class<?> mainClass, List<String> args,
            long seconds) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(CHILD_FLAGS);
        command.add(errorFile());
        command.add("-javaagent:" + agentJar() + "=" + agentOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        command.addAll(args);
        return RigProcess.run(name, command, Map.of(), seconds);
    }

    /**
     * A crashed child leaves its hs_err file in the results share, where run.sh finds it (it fails the variant,
     * or retries it once, and keeps the file); in the guest's working directory it would vanish with the overlay.
     */
    private static String errorFile() throws IOException {
        return "-XX:ErrorFile=" + results().resolve("hs_err_%p.log");
    }

    /** An attribute of the agent's MBean in this JVM; fails when the agent is not running here. */
    static Object mbean(String attribute) {
        try {
            return ManagementFactory.getPlatformMBeanServer().getAttribute(new ObjectName(MBEAN), attribute);
        } catch (InstanceNotFoundException e) {
            fail("the agent is not running in this JVM (no MBean " + MBEAN + "): the attach did not install it");
            return null;
        } catch (JMException e) {
            throw new AssertionError("reading " + MBEAN + " " + attribute, e);
        }
    }

    static long mbeanLong(String attribute) {
        Object value = mbean(attribute);
        assertTrue(value instanceof Long, attribute + " is a long: " + value);
        return (Long) value;
    }

    /**
     * The agent's {maps, bounced} at the call sites whose text starts with {@code callSitePrefix}: one
     * driver's counts, undisturbed by the edu traffic thread mapping meanwhile (issue 14: the global
     * Mappings and BouncedMappings, read one after the other, once took in a traffic mapping between them).
     */
    static long[] streamingCountsAt(String callSitePrefix) {
        try {
            Object value = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName(MBEAN), "streamingCountsAt",
                    new Object[] {callSitePrefix}, new String[] {String.class.getName()});
            assertTrue(value instanceof long[] && ((long[]) value).length == 2, "streamingCountsAt: " + value);
            return (long[]) value;
        } catch (InstanceNotFoundException e) {
            fail("the agent is not running in this JVM (no MBean " + MBEAN + "): the attach did not install it");
            return null;
        } catch (JMException e) {
            throw new AssertionError("invoking " + MBEAN + " streamingCountsAt", e);
        }
    }
}
