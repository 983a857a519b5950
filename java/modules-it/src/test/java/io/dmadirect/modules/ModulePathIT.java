package io.dmadirect.modules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmadirect.linux.HostRequirement;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped jars work on the class path and on the module path, on JDK 17 and JDK 25.
 *
 * <p>Setup: a user's program ({@code src/test/probe}, module {@code io.dmadirect.probe}) is compiled against
 * the jars as modules, so a package it needs that a module-info does not export fails the compile. Action:
 * child JVMs of each JDK run it with {@code -cp} and with {@code -p ... -m}, run the command
 * ({@code io.dmadirect.cli}, picocli and Gson reflecting on it) and the agent with fault injection on top of
 * the module path. Seen: the probe's line (the simulated device's writes and reads, the core in the module
 * asked for), exit status 0, and no native-access warning (JDK 22+), so the {@code --enable-native-access}
 * names documented in core's module-info are the right ones. A JDK missing at its path skips, and fails under
 * {@code DMADIRECT_REQUIRE_HOST=1}.
 */
class ModulePathIT {
    private static final Map<Integer, Path> JDKS = Map.of(
            17, Path.of(System.getProperty("jdk17.home", "/usr/lib/jvm/java-17-openjdk-amd64")),
            25, Path.of(System.getProperty("jdk25.home", "/usr/lib/jvm/temurin-25-jdk-amd64")));
    /** The jars a user's program needs at run time, by file name prefix: ours and their dependencies. */
    private static final List<String> RUNTIME = List.of("dmadirect-core-", "dmadirect-drivers-", "dmadirect-cli-", "jna-",
            "commons-io-", "picocli-", "gson-");
    private static final String NATIVE_ACCESS_MODULES = "--enable-native-access=io.dmadirect.core,com.sun.jna";

    private static List<Path> jars;
    private static Path agentJar;
    private static Path probeClasses;

    @BeforeAll
    static void compileProbe() throws IOException {
        Map<String, Path> found = new LinkedHashMap<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName().toString();
            if (name.startsWith("dmadirect-agent")) {
                agentJar = p;
            }
            for (String prefix : RUNTIME) {
                if (name.startsWith(prefix) && !name.endsWith("-tests.jar")) {
                    if (!name.endsWith(".jar")) {
                        fail(p + " is a directory, not the jar: run this test after package (mvn verify)");
                    }
                    found.putIfAbsent(prefix, p);
                }
            }
        }
        assertEquals(new java.util.TreeSet<>(RUNTIME), new java.util.TreeSet<>(found.keySet()), "the jars under test on the class path: " + found);
        assertTrue(agentJar != null && agentJar.toString().endsWith(".jar"), "the agent jar on the class path: " + agentJar);
        jars = List.copyOf(found.values());

        Path sources = Path.of(System.getProperty("probe.sources"));
        probeClasses = Path.of(System.getProperty("probe.work")).resolve("classes");
        Files.createDirectories(probeClasses);
        List<String> files;
        try (Stream<Path> s = Files.walk(sources)) {
            files = s.filter(f -> f.toString().endsWith(".java")).map(Path::toString).sorted().collect(Collectors.toList());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("--release", "17", "-Xlint:all", "-Werror",
                "--module-path", path(jars), "-d", probeClasses.toString()));
        args.addAll(files);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int status = javac.run(null, out, out, args.toArray(String[]::new));
        assertEquals(0, status, "the user's program does not compile against the modules: javac " + String.join(" ", args) + "\n" + out.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "JDK {0}, class path")
    @ValueSource(ints = {17, 25})
    void classPath(int feature) throws Exception {
        List<Path> cp = new ArrayList<>(List.of(probeClasses));
        cp.addAll(jars);
        String line = run(feature, "--enable-native-access=ALL-UNNAMED", "-cp", path(cp), "io.dmadirect.probe.Probe");
        assertTrue(line.contains("core module=null probe module=null"), "on the class path, no module: " + line);
        assertProbe(line, false);
    }

    @ParameterizedTest(name = "JDK {0}, module path")
    @ValueSource(ints = {17, 25})
    void modulePath(int feature) throws Exception {
        String line = run(feature, NATIVE_ACCESS_MODULES, "-p", modulePath(), "-m", "io.dmadirect.probe/io.dmadirect.probe.Probe");
        assertTrue(line.contains("core module=io.dmadirect.core probe module=io.dmadirect.probe"), "named modules: " + line);
        assertProbe(line, false);
    }

    /** The agent is always in the unnamed module; with the core on the module path it must still inject. */
    @ParameterizedTest(name = "JDK {0}, module path, agent forceBounce=true")
    @ValueSource(ints = {17, 25})
    void agentOnModulePath(int feature) throws Exception {
        String line = run(feature, NATIVE_ACCESS_MODULES, "-javaagent:" + agentJar + "=mode=inject,forceBounce=true",
                "-p", modulePath(), "-m", "io.dmadirect.probe/io.dmadirect.probe.Probe");
        assertTrue(line.contains("core module=io.dmadirect.core"), "named modules: " + line);
        assertProbe(line, true);
    }

    @ParameterizedTest(name = "JDK {0}, module path, dmadirect demo --simulated")
    @ValueSource(ints = {17, 25})
    void commandOnModulePath(int feature) throws Exception {
        String out = run(feature, NATIVE_ACCESS_MODULES, "-p", path(jars), "-m",
                "io.dmadirect.cli/io.dmadirect.cli.DmadirectCommand", "demo", "--simulated");
        assertTrue(out.contains(" passed, 0 failed"), "the simulated demo: " + out);
    }

    @Test
    void onlyTheCommandLineToolReadsTheInternals() throws Exception {
        String described = run(17, null, "-p", path(jars), "--describe-module", "io.dmadirect.core");
        List<String> exports = Arrays.stream(described.split("\n")).map(String::strip)
                .filter(l -> l.startsWith("exports ") || l.startsWith("qualified exports ")).sorted()
                .collect(Collectors.toList());
        for (String line : exports) {
            assertTrue(!line.startsWith("qualified") || line.endsWith(" to io.dmadirect.cli"),
                    "a qualified export to another module than the command: " + line);
        }
        assertFalse(exports.stream().anyMatch(l -> l.matches("exports io\\.dmadirect\\.(direct|memory|pool|swiotlb|iova)")),
                "the policy packages are not exported: " + exports);
    }

    private static void assertProbe(String line, boolean forced) {
        assertTrue(line.contains("coherent=true streaming=true streamBounced=true"), "the simulated device: " + line);
        assertTrue(line.contains("coherentMapBounced=" + forced), "coherent memory maps directly unless forced: " + line);
        assertTrue(line.contains("names=LinuxPlatformOptions,2 MiB,EduDriver,0000:00:04.0"), line);
    }

    private static String modulePath() {
        List<Path> mp = new ArrayList<>(List.of(probeClasses));
        mp.addAll(jars);
        return path(mp);
    }

    /** Runs {@code java} of JDK {@code feature}; returns stdout, after the exit status and stderr were checked. */
    private static String run(int feature, String nativeAccess, String... args) throws Exception {
        Path java = JDKS.get(feature).resolve("bin/java");
        HostRequirement.require(Files.isExecutable(java), "JDK " + feature + " is not installed at " + JDKS.get(feature)
                + " (set -Djdk" + feature + ".home=...)");
        List<String> command = new ArrayList<>(List.of(java.toString()));
        if (nativeAccess != null) {
            command.add(nativeAccess);
        }
        command.addAll(Arrays.asList(args));
        Path err = Files.createTempFile("modules-it", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
            String stderr = Files.readString(err);
            assertEquals(0, p.exitValue(), "exit status of " + String.join(" ", command) + "\nstdout:\n" + out + "\nstderr:\n" + stderr);
            for (String bad : List.of("restricted method", "IllegalAccess", "InaccessibleObject", "does not export",
                    "does not read", "failed to start")) {
                assertFalse(stderr.contains(bad), "'" + bad + "' on stderr of " + String.join(" ", command) + ":\n" + stderr);
            }
            return out;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String path(List<Path> entries) {
        return entries.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    }
}
