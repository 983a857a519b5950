package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.example.driver.PlantedBugs;
import io.dmadirect.DmaDevice;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A child JVM running one of the {@link PlantedBugs} programs, with or without the agent, bounded in time. */
final class ChildJvm {
    static final long TIMEOUT_SECONDS = 60;
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    /** The shaded agent jar that {@code package} built; failsafe passes its path. */
    static String agentJar() {
        String jar = System.getProperty("dmadirect.agent.jar", "target/dmadirect-agent.jar");
        assertTrue(Files.isRegularFile(Path.of(jar)), "the agent jar " + jar + " is missing: run `mvn -pl agent verify`,"
                + " which packages it before the integration tests");
        return jar;
    }

    /** The driver program's classpath: the test classes and the library, never the agent. */
    static String driverClasspath() {
        return location(PlantedBugs.class) + File.pathSeparator + location(DmaDevice.class);
    }

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    record Result(int exitCode, String output, List<String> command) {
        String describe() {
            return "child JVM " + String.join(" ", command) + "\nexit code " + exitCode + ", output:\n" + output;
        }

        Result assertContains(String... expected) {
            for (String e : expected) {
                if (!output.contains(e)) {
                    fail("expected '" + e + "' in the output of the\n" + describe());
                }
            }
            return this;
        }

        Result assertLacks(String unexpected) {
            if (output.contains(unexpected)) {
                fail("did not expect '" + unexpected + "' in the output of the\n" + describe());
            }
            return this;
        }

        Result assertExit(int expected) {
            if (exitCode != expected) {
                fail("expected exit code " + expected + " from the\n" + describe());
            }
            return this;
        }
    }

    /** Runs {@code PlantedBugs <program>} with {@code -javaagent:<jar>=<agentOptions>} (none when null). */
    static Result run(String agentOptions, String program) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(JAVA, "-Xshare:auto", "-Xmx256m"));
        if (agentOptions != null) {
            command.add("-javaagent:" + agentJar() + (agentOptions.isEmpty() ? "" : "=" + agentOptions));
        }
        command.addAll(List.of("-cp", driverClasspath(), PlantedBugs.class.getName(), program));
        return exec(command, null);
    }

    static Result exec(List<String> command, String stdin) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (stdin != null) {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("child JVM did not finish in " + TIMEOUT_SECONDS + " s: " + String.join(" ", command) + "\noutput so far:\n"
                    + new String(process.getInputStream().readNBytes(process.getInputStream().available()),
                            StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(process.exitValue(), output, command);
    }

    /** {@code PlantedBugs.java:<line>} (or {@code Streaming.java:<line>}) of the line marked {@code // BUG} in {@code method}. */
    static String bugLine(String method) throws IOException {
        for (String file : List.of("PlantedBugs.java", "Streaming.java")) {
            Path source = Path.of("src/test/java/com/example/driver", file);
            List<String> lines = Files.readAllLines(source);
            boolean inMethod = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.contains(" " + method + "(") && line.trim().startsWith("static")) {
                    inMethod = true;
                } else if (inMethod && line.contains("// BUG")) {
                    return file + ":" + (i + 1);
                }
            }
        }
        throw new AssertionError("no line marked // BUG in " + method + " of PlantedBugs.java or Streaming.java");
    }
}
