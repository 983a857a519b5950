package io.dmadirect.cli.rig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code dmadirect rig} hands run-guest.sh, and how it reads the verdict. */
class RigLaunchTest {
    @TempDir
    Path tmp;

    private RigLaunch.Plan plan(List<RigDevice> devices, String bind, List<String> command, String junit) {
        return new RigLaunch.Plan(new RigScripts.Located(Path.of("/rig"), "test"), "iommufd", bind, devices, false, null,
                List.of("--aw-bits", "48"), "1G", 80, 300, tmp, List.of("FOO=bar"), null, true, false, junit, List.of("com.acme"), List.of(), List.of("rig"),
                Path.of("/l.jar"), false, command);
    }

    @Test
    void theGuestBindsEachDeviceThenExecsTheCommandUnparsed() {
        List<RigDevice> devices = List.of(RigDevice.parse("edu,dma_mask=0xffffff", 7, "/d"), RigDevice.parse("e1000e", 7, "/d"));
        List<String> argv = RigLaunch.runGuestArgs(plan(devices, "vfio-pci", List.of("echo", "a b", "$HOME"), null), tmp);
        assertEquals(List.of("bash", "/rig/run-guest.sh", "--iommufd", "--aw-bits", "48", "--mem", "1G", "--hugepages", "80", "--timeout", "300",
                "--results", tmp.toString(), "--edu-dma-mask", "0xffffff", "--qemu-device", "e1000e,addr=0x7",
                "--env", "DMADIRECT_RIG_E1000E_07_BDF=0000:00:07.0", "--env", "FOO=bar"), argv.subList(0, 21));
        int dashes = argv.indexOf("--");
        assertTrue(argv.get(dashes - 1).startsWith("JAVA_TOOL_OPTIONS=-XX:ErrorFile=" + tmp + "/hs_err_%p.log"), argv.toString());
        assertEquals(List.of("bash", "-c", "set -e; ulimit -l unlimited; bash '/rig/bind.sh' 0000:00:04.0 vfio-pci; "
                + "bash '/rig/bind.sh' 0000:00:07.0 vfio-pci; exec \"$@\"", "dmadirect-rig", "echo", "a b", "$HOME"),
                argv.subList(dashes + 1, argv.size()), "the user's words arrive as positional parameters");
    }

    @Test
    void junitRunsTheConsoleLauncherIntoTheResults() {
        List<String> argv = RigLaunch.runGuestArgs(plan(List.of(), "none", List.of(), "/t/classes"), tmp);
        String joined = String.join(" ", argv);
        assertTrue(joined.endsWith("-cp /l.jar:/t/classes org.junit.platform.console.ConsoleLauncher execute --disable-banner "
                + "--details=tree --fail-if-no-tests --reports-dir " + tmp + "/junit --select-package com.acme --include-tag rig"),
                joined);
        assertTrue(!joined.contains("JAVA_TOOL_OPTIONS") && joined.contains("-XX:ErrorFile=" + tmp + "/hs_err_%p.log"), joined);
    }

    @Test
    void noJunitReportIsAFailureWhateverTheExitCode() throws Exception {
        assertEquals(1, RigLaunch.junitVerdict(tmp.resolve("junit"), 0));
        Files.createDirectories(tmp.resolve("junit"));
        Files.writeString(tmp.resolve("junit/TEST-junit-jupiter.xml"), "<testsuite name=\"x\" tests=\"3\" failures=\"0\">");
        assertEquals(0, RigLaunch.junitVerdict(tmp.resolve("junit"), 0));
        assertEquals(1, RigLaunch.junitVerdict(tmp.resolve("junit"), 1), "the launcher's failure stands");
    }
}
