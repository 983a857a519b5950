package io.dmadirect.cli.rig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packed rig scripts: extracted once per content, executable, and refused when missing. */
class RigScriptsTest {
    @TempDir
    Path tmp;

    private Path jar(String runGuest) throws IOException {
        Path jar = tmp.resolve("dmadirect-" + runGuest.hashCode() + ".jar");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new ZipEntry("dmadirect-rig/run-guest.sh"));
            zip.write(runGuest.getBytes());
            zip.putNextEntry(new ZipEntry("dmadirect-rig/guest/init.sh"));
            zip.write("init".getBytes());
            zip.putNextEntry(new ZipEntry("io/dmadirect/cli/Other.class"));
        }
        return jar;
    }

    @Test
    void theJarsScriptsAreExtractedOncePerContent() throws IOException {
        Path cache = tmp.resolve("cache");
        Path first = RigScripts.extract(jar("echo one"), cache);
        assertEquals("echo one", Files.readString(first.resolve("run-guest.sh")));
        assertTrue(Files.isExecutable(first.resolve("run-guest.sh")));
        assertEquals("init", Files.readString(first.resolve("guest/init.sh")));
        assertEquals(first, RigScripts.extract(jar("echo one"), cache), "the same content, the same directory");
        Path second = RigScripts.extract(jar("echo two"), cache);
        assertTrue(!second.equals(first), "a newer jar's scripts never mix with an older one's");
        assertEquals("echo one", Files.readString(first.resolve("run-guest.sh")));
    }

    @Test
    void aJarWithoutScriptsSaysHowToGiveThem() throws IOException {
        Path jar = tmp.resolve("empty.jar");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new ZipEntry("x.class"));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RigScripts.extract(jar, tmp.resolve("c")));
        assertTrue(e.getMessage().endsWith("give them with --scripts test-rigs/qemu"), e.getMessage());
    }

    @Test
    void anExplicitDirectoryMustHoldRunGuest() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RigScripts.locate(tmp));
        assertTrue(e.getMessage().contains("holds no run-guest.sh"), e.getMessage());
    }
}
