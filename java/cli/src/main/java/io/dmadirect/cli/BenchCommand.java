package io.dmadirect.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dmadirect bench}: a quick run of the JMH benchmarks of java/bench in a child JVM, with a progress
 * bar. One fork, one short warmup and measurement iteration: enough to see the shape, not to publish. The
 * full run (default JMH settings) is {@code java -jar java/bench/target/benchmarks.jar}; docs/benchmarks.md
 * holds its results.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the core benchmarks quickly (1 fork, 1 s warmup, 1 s measurement) with a progress bar. "
                + "For publishable numbers run java -jar java/bench/target/benchmarks.jar with JMH's defaults.")
public final class BenchCommand implements Callable<Integer> {
    private static final Pattern PROGRESS = Pattern.compile("# Run progress: ([0-9.]+)% complete, ETA (\\S+)");

    @Parameters(arity = "0..1", paramLabel = "REGEX", description = "Only benchmarks matching this (JMH's include regex).")
    String include;

    @Option(names = "--jar", paramLabel = "FILE", description = "The JMH jar (default: java/bench/target/benchmarks.jar "
            + "next to this command's jar, or in the current directory's tree).")
    Path jar;

    @Option(names = "--verbose", description = "Show JMH's own output instead of the progress bar.")
    boolean verbose;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path benchmarks = jar != null ? jar : findJar();
        if (benchmarks == null || !Files.isRegularFile(benchmarks)) {
            err.println("dmadirect bench: no benchmarks jar" + (benchmarks == null ? "" : " at " + benchmarks)
                    + "; build it with: mvn -B -pl java/bench -am package -DskipTests");
            return 1;
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", benchmarks.toString(), "-f", "1", "-wi", "1", "-w", "1s", "-i", "1", "-r", "1s"));
        if (include != null) {
            command.add(include);
        }
        err.println("dmadirect bench: " + String.join(" ", command));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean results = false;
        java.util.ArrayDeque<String> tail = new java.util.ArrayDeque<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                Matcher m = PROGRESS.matcher(line);
                if (tail.size() == 20) {
                    tail.removeFirst();
                }
                tail.addLast(line);
                if (verbose || results) {
                    out.println(line);
                } else if (m.find()) {
                    err.print("\r" + bar(Double.parseDouble(m.group(1))) + " ETA " + m.group(2) + "   ");
                }
                if (line.startsWith("# Run complete")) {
                    results = true;
                    err.println("\r" + bar(100) + "              ");
                }
            }
        }
        int code = child.waitFor();
        if (code == 0) {
            err.println("dmadirect bench: a quick run; for the full run see docs/benchmarks.md");
        } else if (!verbose) {
            err.println();
            tail.forEach(err::println);
            err.println("dmadirect bench: JMH exited with " + code);
        }
        return code == 0 ? 0 : 1;
    }

    static String bar(double percent) {
        int width = 40;
        int done = (int) Math.round(Math.min(100, Math.max(0, percent)) / 100 * width);
        return "[" + "#".repeat(done) + " ".repeat(width - done) + "] " + String.format("%5.1f%%", percent);
    }

    /** java/bench/target/benchmarks.jar of the tree this command's jar was built in, else of the working directory. */
    private static Path findJar() {
        return RepoJars.find("java/bench/target/benchmarks.jar");
    }
}
