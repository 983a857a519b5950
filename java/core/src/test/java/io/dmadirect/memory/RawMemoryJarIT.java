package io.dmadirect.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The packaged core jar, as a JVM really loads it: unit tests run from {@code target/classes}, where a
 * multi-release jar's {@code META-INF/versions} is not consulted. A child JVM of the running JDK runs
 * {@link RawMemoryProbe} on the jar. A jar built by JDK 22+ must carry the foreign-memory RawMemory, and a
 * JDK 22+ running it must use that one and print no {@code sun.misc.Unsafe} warning; a JDK 17 build carries
 * only the Unsafe version, which every JDK then runs.
 */
class RawMemoryJarIT {

    @Test
    void theJarGivesEachJdkItsRawMemory() throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("core.jar"));
        int feature = Runtime.version().feature();
        boolean hasForeign;
        try (JarFile file = new JarFile(jar.toFile())) {
            assertEquals("true", file.getManifest().getMainAttributes().getValue("Multi-Release"));
            hasForeign = file.getEntry("META-INF/versions/22/io/dmadirect/memory/RawMemory.class") != null;
        }
        if (feature >= 22) {
            assertTrue(hasForeign, "built by JDK " + feature + ": the jar must carry the JDK 22+ RawMemory");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path testClasses = Path.of(RawMemoryProbe.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        List<String> command = new ArrayList<>(List.of(java.toString()));
        if (feature >= 22) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        command.addAll(List.of("-cp", jar + ":" + testClasses, RawMemoryProbe.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("OK"), out);
        boolean foreign = feature >= 22 && hasForeign;
        assertTrue(out.contains("IMPLEMENTATION " + (foreign ? "foreign memory API" : "sun.misc.Unsafe")), out);
        if (foreign) {
            assertFalse(out.contains("sun.misc.Unsafe"), "no Unsafe warning on JDK " + feature + ":\n" + out);
        }
    }
}
