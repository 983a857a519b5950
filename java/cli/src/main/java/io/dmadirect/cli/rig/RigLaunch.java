package io.dmadirect.cli.rig;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs one {@code dmadirect rig}: makes the namespace images, writes the guest's command (bind the devices,
 * then the user's command or the JUnit launcher), boots through run-guest.sh, says every 30 s that the guest
 * is still running, and turns what came back into the verdict.
 */
public final class RigLaunch {
    private static final int HEARTBEAT_SECONDS = 30;

    private RigLaunch() {
    }

    /** Everything {@code dmadirect rig} was asked for, checked. */
    public record Plan(RigScripts.Located scripts, String variant, String bind, List<RigDevice> devices, boolean nvmeCmb,
            String eduDmaMask, List<String> guestOptions, String mem, int hugepages, int timeout, Path results, List<String> env, Path cwd,
            boolean crashLogOption, boolean dryRun,
            String junit, List<String> selectPackages, List<String> selectClasses, List<String> includeTags,
            Path launcher, boolean quiet, List<String> command) {
    }

    public static Path diskDir() {
        return RigScripts.cacheRoot().resolve("disks");
    }

    public static int run(Plan plan) {
        Path results = plan.results() != null ? plan.results().toAbsolutePath()
                : Path.of("dmadirect-rig", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")))
                        .toAbsolutePath();
        List<String> argv = runGuestArgs(plan, results);
        System.err.println("rig: scripts from " + plan.scripts().origin() + " (" + plan.scripts().dir() + ")");
        System.err.println("rig: " + plan.variant() + ", devices " + describe(plan) + ", results in " + results);
        if (plan.dryRun()) {
            System.out.println(String.join(" ", argv));
            return 0;
        }
        createDisks(plan.devices());
        ProcessBuilder pb = new ProcessBuilder(argv).inheritIO();
        long t0 = System.nanoTime();
        int rc;
        try {
            Process p = pb.start();
            Thread heartbeat = heartbeat(p, t0, results);
            rc = p.waitFor();
            heartbeat.interrupt();
        } catch (IOException e) {
            System.err.println("rig: FAILED to start " + argv.get(0) + ": " + e.getMessage());
            return 125;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        if (plan.junit() != null && rc != 124 && rc != 125) {
            rc = junitVerdict(results.resolve("junit"), rc);
        }
        List<Path> hsErr = files(results, "hs_err_*.log");
        if (!hsErr.isEmpty()) {
            System.err.println("rig: the JVM crashed: " + hsErr);
            rc = rc == 0 ? 1 : rc;
        }
        System.err.println("rig: " + (rc == 0 ? "PASS" : "FAIL (exit " + rc + ")") + " in " + seconds + " s; evidence in "
                + results + " (console.log, stdout.log, stderr.log" + (plan.junit() != null ? ", junit/" : "") + ")");
        return rc;
    }

    static List<String> runGuestArgs(Plan plan, Path results) {
        List<String> argv = new ArrayList<>(List.of("bash", plan.scripts().script("run-guest.sh").toString(),
                "--" + plan.variant()));
        if (plan.nvmeCmb()) {
            argv.add("--nvme-cmb");
        }
        if (plan.eduDmaMask() != null) {
            argv.addAll(List.of("--edu-dma-mask", plan.eduDmaMask()));
        }
        argv.addAll(plan.guestOptions());
        argv.addAll(List.of("--mem", plan.mem(), "--hugepages", Integer.toString(plan.hugepages()), "--timeout",
                Integer.toString(plan.timeout()), "--results", results.toString()));
        if (plan.cwd() != null) {
            argv.addAll(List.of("--cwd", plan.cwd().toAbsolutePath().toString()));
        }
        if (plan.quiet()) {
            argv.add("--quiet");
        }
        for (RigDevice d : plan.devices()) {
            argv.addAll(d.guestArgs());
            if (d.extra()) {
                argv.addAll(List.of("--env", d.envName() + "=" + d.bdf()));
            }
        }
        for (String e : plan.env()) {
            argv.addAll(List.of("--env", e));
        }
        boolean ownToolOptions = plan.env().stream().anyMatch(e -> e.equals("JAVA_TOOL_OPTIONS") || e.startsWith("JAVA_TOOL_OPTIONS="));
        if (plan.junit() == null && plan.crashLogOption() && !ownToolOptions) {
            // Any JVM the user's command starts leaves its crash log with the evidence.
            argv.addAll(List.of("--env", "JAVA_TOOL_OPTIONS=-XX:ErrorFile=" + results + "/hs_err_%p.log"
                    + (System.getenv("JAVA_TOOL_OPTIONS") == null ? "" : " " + System.getenv("JAVA_TOOL_OPTIONS"))));
        }
        argv.add("--");
        argv.addAll(guestCommand(plan, results));
        return argv;
    }

    /**
     * The guest's command: bash binds each device, then execs the user's command, handed over as bash's
     * positional parameters so that no argument is ever re-parsed by a shell.
     */
    static List<String> guestCommand(Plan plan, Path results) {
        StringBuilder script = new StringBuilder("set -e; ulimit -l unlimited; ");
        if (!plan.bind().equals("none")) {
            String bindSh = plan.scripts().script("bind.sh").toString();
            for (RigDevice d : plan.devices()) {
                script.append("bash '").append(bindSh).append("' ").append(d.bdf()).append(' ').append(plan.bind()).append("; ");
            }
        }
        script.append("exec \"$@\"");
        List<String> out = new ArrayList<>(List.of("bash", "-c", script.toString(), "dmadirect-rig"));
        out.addAll(plan.junit() != null ? junitCommand(plan, results) : plan.command());
        return out;
    }

    private static List<String> junitCommand(Plan plan, Path results) {
        Path launcher = plan.launcher() != null ? plan.launcher() : findLauncher();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // TCG runs the guest's JVM slowly: C1 only starts the tests sooner.
                "-XX:TieredStopAtLevel=1", "-XX:ErrorFile=" + results + "/hs_err_%p.log", "-cp", launcher + ":" + plan.junit(),
                "org.junit.platform.console.ConsoleLauncher", "execute", "--disable-banner", "--details=tree",
                "--fail-if-no-tests", "--reports-dir", results + "/junit"));
        plan.selectPackages().forEach(p -> cmd.addAll(List.of("--select-package", p)));
        plan.selectClasses().forEach(c -> cmd.addAll(List.of("--select-class", c)));
        plan.includeTags().forEach(t -> cmd.addAll(List.of("--include-tag", t)));
        if (plan.selectPackages().isEmpty() && plan.selectClasses().isEmpty()) {
            cmd.add("--scan-classpath");
            cmd.add(plan.junit());
        }
        // The results directory is named by its host path: the guest mounts it at the same path.
        return cmd;
    }

    static Path findLauncher() {
        Path dir = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "junit", "platform",
                "junit-platform-console-standalone");
        try (Stream<Path> versions = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
            return versions.filter(v -> v.getFileName().toString().startsWith("1."))
                    .map(v -> v.resolve("junit-platform-console-standalone-" + v.getFileName() + ".jar"))
                    .filter(Files::isRegularFile)
                    .max(Comparator.comparing(RigLaunch::versionKey))
                    .orElseThrow(() -> new IllegalStateException("--junit: no JUnit console launcher in " + dir
                            + "; fetch it with: mvn dependency:get -Dartifact=org.junit.platform:"
                            + "junit-platform-console-standalone:1.13.4, or give --launcher JAR"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String versionKey(Path jar) {
        StringBuilder key = new StringBuilder();
        for (String part : jar.getParent().getFileName().toString().split("[.-]")) {
            key.append(String.format("%8s", part));
        }
        return key.toString();
    }

    private static String describe(Plan plan) {
        if (plan.devices().isEmpty()) {
            return "as booted (edu at " + RigDevice.EDU_BDF + ", NVMe at " + RigDevice.NVME_BDF + ", none bound)";
        }
        List<String> out = new ArrayList<>();
        for (RigDevice d : plan.devices()) {
            out.add(d.kind() + " at " + d.bdf() + " (" + d.envName() + ")");
        }
        return out + " on " + plan.bind();
    }

    private static void createDisks(List<RigDevice> devices) {
        for (RigDevice d : devices) {
            for (Map.Entry<String, Long> disk : d.disks().entrySet()) {
                Path image = Path.of(disk.getKey());
                try {
                    if (!Files.isRegularFile(image) || Files.size(image) != disk.getValue()) {
                        Files.createDirectories(image.getParent());
                        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                            f.setLength(disk.getValue());   // sparse; QEMU writes only to its snapshot
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("failed to create the namespace image " + image + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private static Thread heartbeat(Process p, long t0, Path results) {
        Thread t = new Thread(() -> {
            try {
                while (p.isAlive()) {
                    Thread.sleep(HEARTBEAT_SECONDS * 1000L);
                    if (p.isAlive()) {
                        System.err.println("rig: guest still running after " + (System.nanoTime() - t0) / 1_000_000_000L
                                + " s (console: " + results.resolve("console.log") + ")");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "rig-heartbeat");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static final Pattern COUNTS = Pattern.compile("<testsuite [^>]*tests=\"(\\d+)\"[^>]*");

    /** With --junit: no report is a failure whatever the exit code; otherwise the launcher's code stands. */
    static int junitVerdict(Path junitDir, int rc) {
        List<Path> reports = files(junitDir, "*.xml");
        if (reports.isEmpty()) {
            System.err.println("rig: FAIL: no JUnit XML report in " + junitDir);
            return rc == 0 ? 1 : rc;
        }
        int tests = 0;
        for (Path r : reports) {
            try {
                Matcher m = COUNTS.matcher(Files.readString(r));
                while (m.find()) {
                    tests += Integer.parseInt(m.group(1));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        System.err.println("rig: JUnit reports " + reports.stream().map(p -> p.getFileName().toString()).sorted().toList()
                + ": " + tests + " tests, launcher exit " + rc);
        return rc;
    }

    /** The files in {@code dir} matching {@code glob}; none when {@code dir} does not exist. */
    private static List<Path> files(Path dir, String glob) {
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, glob)) {
                s.forEach(out::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }
}
