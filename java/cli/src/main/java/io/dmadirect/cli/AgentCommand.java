package io.dmadirect.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dmadirect agent}: the javaagent's commands. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "The DMA-API javaagent.",
        subcommands = AgentCommand.Attach.class)
public final class AgentCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * {@code dmadirect agent attach <pid>}: loads the agent into a running driver JVM and prints its live
     * DMA map, as the kernel's {@code dma-api/dump}. The attach itself is the agent jar's own main, so
     * this command carries none of the agent's classes.
     */
    @Command(name = "attach", mixinStandardHelpOptions = true,
            description = "Attach the agent to a running JVM and dump its live DMA map.")
    static final class Attach implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "PID", description = "The driver JVM's process id.")
        long pid;

        @Parameters(index = "1", arity = "0..1", paramLabel = "OPTIONS",
                description = "Agent options, e.g. mode=trace+debug (the agent's default for an attach).")
        String options;

        @Option(names = "--jar", paramLabel = "FILE",
                description = "The agent jar (default: $DMADIRECT_AGENT_JAR, else agent/target/dmadirect-agent.jar).")
        Path jar;

        @Override
        public Integer call() throws Exception {
            Path agent = jar != null ? jar
                    : System.getenv("DMADIRECT_AGENT_JAR") != null ? Path.of(System.getenv("DMADIRECT_AGENT_JAR"))
                    : RepoJars.find("agent/target/dmadirect-agent.jar");
            if (!Files.isRegularFile(agent)) {
                System.err.println("dmadirect agent attach: no agent jar at " + agent
                        + "; build it with: mvn -B -pl agent -am package -DskipTests, or set DMADIRECT_AGENT_JAR");
                return 1;
            }
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(crashReportFlags(ManagementFactory.getRuntimeMXBean().getInputArguments()));
            command.addAll(List.of("-jar", agent.toString(), Long.toString(pid)));
            if (options != null) {
                command.add(options);
            }
            return new ProcessBuilder(command).inheritIO().start().waitFor();
        }
    }

    /**
     * The flags of this JVM that say where a crash report goes ({@code -XX:ErrorFile}), for the attaching JVM
     * this command starts: a caller that asked for crash reports in a directory of its own (the rig, whose working
     * directory is read-only) then gets the child's too, instead of a report the child could not write.
     */
    static List<String> crashReportFlags(List<String> jvmArguments) {
        return jvmArguments.stream().filter(a -> a.startsWith("-XX:ErrorFile=")).toList();
    }
}
