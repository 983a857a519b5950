package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Kernel files read whole, where a read that does not start at offset 0 gets end-of-file. */
class KernelFilesTest {

    @Test
    void aSysctlIsReadWhole() throws Exception {
        Path sysctl = Path.of("/proc/sys/vm/overcommit_ratio"); // "50" by default, two digits in any case
        String expected = String.join("\n", Files.readAllLines(sysctl)) + "\n";
        assertEquals(expected, KernelFiles.read(sysctl));
    }

    @Test
    void aSeqFileLongerThanAPageIsReadWhole() throws Exception {
        Path status = Path.of("/proc/self/status");
        String text = KernelFiles.read(status);
        assertEquals(Files.readAllLines(status).get(0), text.lines().findFirst().orElseThrow());
        assertEquals(true, text.contains("CapEff:"), text);
    }
}
