package io.dmadirect.agent;

import com.sun.tools.attach.VirtualMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code java -jar dmadirect-agent.jar <pid> [options]}, which the CLI's {@code dmadirect agent attach <pid>}
 * runs: loads the agent into a running driver JVM (mode=trace+debug unless options say otherwise) and
 * prints the live DMA map, as {@code /sys/kernel/debug/dma-api/dump} does. Attach again later to see
 * what was allocated since.
 */
public final class Attach {
    private Attach() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2 || !args[0].matches("\\d+")) {
            System.err.println("usage: java -jar dmadirect-agent.jar <pid> [agent options]\n" + AgentOptions.USAGE);
            System.exit(2);
        }
        String options = args.length == 2 ? args[1] : "";
        if (!options.contains("mode=")) {
            options = "mode=trace+debug" + (options.isEmpty() ? "" : "," + options);
        }
        Path dump = Files.createTempFile("dmadirect-dump", ".txt");
        try {
            VirtualMachine vm;
            try {
                vm = VirtualMachine.attach(args[0]);
            } catch (Exception e) {
                System.err.println("failed to attach to JVM " + args[0] + ": " + e.getMessage()
                        + ". Run as the same user as the driver; a JVM started with -XX:+DisableAttachMechanism"
                        + " cannot be attached to. Java " + Runtime.version());
                System.exit(1);
                return;
            }
            try {
                vm.loadAgent(DmaAgent.jarPath(), options + ",dump=" + dump);
            } finally {
                vm.detach();
            }
            System.out.print(Files.readString(dump, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(dump);
        }
    }
}
