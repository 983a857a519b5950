package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A process the rig tests start (a child driver JVM, the {@code dmadirect} command), bounded in time. Its
 * stdout and stderr go to one log in the results share, so the output of every child is kept with the
 * evidence, and a child that hangs fails the test instead of the whole guest's time limit.
 */
final class RigProcess {
    private RigProcess() {
    }

    /** What a finished process left: its exit code, its output (stdout and stderr together) and its log. */
    record Result(int exitCode, String output, List<String> command, Path log) {
        String describe() {
            return String.join(" ", command) + "\nexit code " + exitCode + ", log " + log + ", output:\n" + output;
        }

        Result assertExit(int expected) {
            if (exitCode != expected) {
                fail("expected exit code " + expected + " from\n" + describe());
            }
            return this;
        }

        Result assertContains(String... expected) {
            for (String e : expected) {
                if (!output.contains(e)) {
                    fail("expected '" + e + "' in the output of\n" + describe());
                }
            }
            return this;
        }

        /** The lines that start with {@code prefix}. */
        List<String> lines(String prefix) {
            return output.lines().filter(l -> l.startsWith(prefix)).toList();
        }

        /** The one line that starts with {@code prefix}; fails when there is none. */
        String line(String prefix) {
            List<String> found = lines(prefix);
            if (found.isEmpty()) {
                fail("no line starting with '" + prefix + "' in the output of\n" + describe());
            }
            return found.get(found.size() - 1);
        }
    }

    /** Runs {@code command} with {@code env} added, its output to {@code <results>/<name>.log}; fails after {@code seconds}. */
    static Result run(String name, List<String> command, Map<String, String> env, long seconds)
            throws IOException, InterruptedException {
        Path log = AgentRig.results().resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        builder.environment().putAll(env);
        Process process = builder.start();
        process.getOutputStream().close(); // no input: a child that waits for some would hang, not block forever
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor();
            fail("no result after " + seconds + " s (a hang): " + String.join(" ", command) + "\noutput so far:\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8), command, log);
    }
}
