package io.dmadirect.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Runs udev/test/install-test.sh, so `mvn verify` covers the installer (its rig half is udev/test/rig-udev.sh). */
class UdevInstallTest {

    @Test
    void installerPassesItsHostTest() throws Exception {
        // Surefire runs in java/cli; the script lives at the top of the tree.
        Path script = Path.of("../../udev/test/install-test.sh").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
    }
}
