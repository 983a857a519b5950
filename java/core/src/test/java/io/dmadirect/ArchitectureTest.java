package io.dmadirect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DESIGN §3: only the mechanism layer touches native code. No source of java/core outside
 * {@code io/dmadirect/linux/} may import or name {@code com.sun.jna}, and inside it only
 * {@code io/dmadirect/linux/jna/} may, so JNA types never leak into the seam.
 */
class ArchitectureTest {
    /** Surefire runs with the module directory (java/core) as working directory. */
    private static final Path SOURCES = Path.of("src/main/java");
    /** The classes of META-INF/versions/22 in the multi-release jar. */
    private static final Path JAVA22_SOURCES = Path.of("src/main/java22");
    private static final String JNA = "com.sun.jna";

    @Test
    void jnaOnlyInTheLinuxPackage() throws IOException {
        assertEquals(List.of(), sourcesNamingJna().stream()
                .filter(p -> !p.startsWith(SOURCES.resolve("io/dmadirect/linux")))
                .collect(Collectors.toList()), "these files use JNA outside io.dmadirect.linux");
    }

    @Test
    void jnaOnlyInTheJnaSubpackageOfTheLinuxPackage() throws IOException {
        assertEquals(List.of(), sourcesNamingJna().stream()
                .filter(p -> !p.startsWith(SOURCES.resolve("io/dmadirect/linux/jna")))
                .collect(Collectors.toList()), "these files use JNA outside io.dmadirect.linux.jna");
    }

    @Test
    void theScanSeesTheSources() throws IOException {
        // Guards against a vacuous pass from a wrong working directory.
        assertTrue(Files.isRegularFile(SOURCES.resolve("io/dmadirect/DmaPlatform.java")), SOURCES.toAbsolutePath().toString());
        assertTrue(!sourcesNamingJna().isEmpty(), "the JNA binding itself must be found");
    }

    /**
     * Issue 7, "cost when absent": the library's compiled classes name nothing of the javaagent, so
     * without {@code -javaagent} no hook, no check and no branch of it is on the hot path; the advice
     * exists only in classes the agent retransforms. (The time of the same calls with no agent is the
     * anchor of {@code AgentOverheadBenchmark}.)
     */
    @Test
    void theCompiledLibraryCarriesNoAgentHooks() throws IOException {
        Path classes = Path.of("target/classes");
        List<Path> all;
        try (Stream<Path> files = Files.walk(classes)) {
            all = files.filter(p -> p.toString().endsWith(".class")).sorted().collect(Collectors.toList());
        }
        assertTrue(all.size() > 100, "the scan must see the compiled library: " + all.size() + " classes");
        List<Path> hooked = all.stream().filter(p -> {
            try {
                return new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1)
                        .contains("io/dmadirect/agent");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).collect(Collectors.toList());
        assertEquals(List.of(), hooked, "these library classes name the agent");
    }

    /**
     * Raw memory access (Unsafe on JDK 17-21, the foreign memory API on 22+) lives in RawMemory alone, in both
     * versions of the multi-release jar.
     */
    @Test
    void onlyRawMemoryTouchesUnsafeOrForeignMemory() throws IOException {
        List<Path> users = new java.util.ArrayList<>();
        for (Path root : List.of(SOURCES, JAVA22_SOURCES)) {
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                    String text = read(p);
                    return text.contains("sun.misc.Unsafe") || text.contains("java.lang.foreign");
                }).forEach(p -> users.add(root.relativize(p)));
            }
        }
        Path rawMemory = Path.of("io/dmadirect/memory/RawMemory.java");
        assertEquals(List.of(rawMemory, rawMemory), users, "raw memory access outside RawMemory");
    }

    /**
     * The JDK 22+ RawMemory replaces the JDK 17 one in the jar, so it must offer every public method with
     * the same signature: a missing one would be a NoSuchMethodError on JDK 22+ only.
     */
    @Test
    void bothRawMemoryVersionsOfferTheSameMethods() {
        List<String> base = publicStaticSignatures(SOURCES.resolve("io/dmadirect/memory/RawMemory.java"));
        assertTrue(base.size() >= 8, "the scan must see RawMemory's methods: " + base);
        assertEquals(base, publicStaticSignatures(JAVA22_SOURCES.resolve("io/dmadirect/memory/RawMemory.java")));
    }

    /** Each {@code public static ...(...)} declaration of a source file, sorted. */
    private static List<String> publicStaticSignatures(Path source) {
        return java.util.regex.Pattern.compile("public static [^=;{]+\\)").matcher(read(source)).results()
                .map(java.util.regex.MatchResult::group).sorted().collect(Collectors.toList());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Path> sourcesNamingJna() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            // module-info declares the dependency (requires com.sun.jna); it holds no code that uses it.
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !p.getFileName().toString().equals("module-info.java")).filter(ArchitectureTest::namesJna)
                    .sorted().collect(Collectors.toList());
        }
    }

    private static boolean namesJna(Path file) {
        return read(file).contains(JNA);
    }
}
