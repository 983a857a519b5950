package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs {@link PlatformProbe} in a child JVM behind a command prefix (setpriv, a shell with ulimit),
 * bounded in time; its output is kept to show on failure.
 */
public final class ChildJvm {
    private final List<String> command;
    private Process process;
    private Path output;

    private ChildJvm(List<String> command) {
        this.command = command;
    }

    /** {@code prefix} then {@code java -cp <classpath> PlatformProbe args}; a shell command when {@code shell} is set. */
    public static ChildJvm probe(String classpath, String shellSetup, List<String> prefix, String... args) {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "--enable-native-access=ALL-UNNAMED", "-cp", classpath, PlatformProbe.class.getName()));
        java.addAll(List.of(args));
        List<String> command = new ArrayList<>(prefix);
        if (shellSetup == null) {
            command.addAll(java);
        } else {
            command.addAll(List.of("bash", "-c", shellSetup + "; exec \"$@\"", "probe"));
            command.addAll(java);
        }
        return new ChildJvm(command);
    }

    /** {@code java -cp <this JVM's classpath> mainClass args}, with no prefix. */
    public static ChildJvm main(Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "--enable-native-access=ALL-UNNAMED", "-cp", classpath(), mainClass.getName()));
        command.addAll(List.of(args));
        return new ChildJvm(command);
    }

    /** This JVM's test classpath, as the child needs it. */
    public static String classpath() {
        return System.getProperty("java.class.path");
    }

    /**
     * A copy of the classpath that any user can read (the originals may be under /root), in
     * {@code directory}, which the caller deletes.
     */
    public static String worldReadableClasspath(Path directory) throws IOException {
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : classpath().split(java.io.File.pathSeparator)) {
            Path source = Path.of(entry);
            if (!Files.exists(source)) {
                continue;
            }
            Path target = directory.resolve(i++ + "-" + source.getFileName());
            copyTree(source, target);
            entries.add(target.toString());
        }
        makeReadable(directory);
        return String.join(java.io.File.pathSeparator, entries);
    }

    public ChildJvm start() throws IOException {
        output = Files.createTempFile("dmadirect-child", ".out");
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        return this;
    }

    /** Waits up to {@code seconds} for the exit code; kills the child and fails the test on timeout. */
    public int waitFor(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            fail("the child did not finish in " + seconds + " s: " + command + "\n" + output());
        }
        return process.exitValue();
    }

    /** Waits until the child printed a line starting with {@code prefix}; fails on timeout or exit. */
    public void awaitLine(String prefix, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (output().lines().anyMatch(l -> l.startsWith(prefix))) {
                return;
            }
            if (!process.isAlive()) {
                fail("the child exited with " + process.exitValue() + " before printing " + prefix + ":\n" + output());
            }
            Thread.sleep(50);
        }
        process.destroyForcibly().waitFor();
        fail("the child printed no " + prefix + " in " + seconds + " s:\n" + output());
    }

    /** SIGKILL, then waits until the kernel has torn the process down. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    public String output() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return String.join(" ", command) + "\n--- output ---\n" + output();
    }

    private static void copyTree(Path source, Path target) throws IOException {
        try (Stream<Path> files = Files.walk(source)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path to = target.resolve(source.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(to);
                } else {
                    Files.createDirectories(to.getParent());
                    Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void makeReadable(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                file.toFile().setReadable(true, false);
                if (Files.isDirectory(file)) {
                    file.toFile().setExecutable(true, false);
                }
            }
        }
    }
}
