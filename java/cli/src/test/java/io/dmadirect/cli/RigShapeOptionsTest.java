package io.dmadirect.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The rig shapes of issues 21 and 22 (NIC pair, IOMMU model and width, NUMA, 1 GiB pages) reach run-guest.sh
 * from {@code dmadirect rig}, which the HIL suite's run.sh boots every variant through; combinations the rig
 * cannot boot are refused with exit code 2 before anything starts.
 */
class RigShapeOptionsTest {
    @TempDir
    Path tmp;

    private record Outcome(int rc, String out, String err) {
    }

    private Outcome dryRun(String... options) throws IOException {
        Path scripts = Files.createDirectories(tmp.resolve("qemu"));
        Files.writeString(scripts.resolve("run-guest.sh"), "#!/bin/sh\n");
        String[] args = new String[options.length + 6];
        args[0] = "--dry-run";
        args[1] = "--scripts";
        args[2] = scripts.toString();
        System.arraycopy(options, 0, args, 3, options.length);
        args[options.length + 3] = "--";
        args[options.length + 4] = "true";
        args[options.length + 5] = "x";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int rc = new CommandLine(new RigCommand()).execute(args);
            return new Outcome(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void theShapesArePassedToRunGuest() throws IOException {
        Outcome o = dryRun("--iommu-model", "amd", "--numa", "--aw-bits", "48", "--gigantic-pages", "1",
                "--kernel-args", "quiet");
        assertEquals(0, o.rc(), o.err());
        assertTrue(o.out().contains("--iommu-model amd"), o.out());
        assertTrue(o.out().contains("--numa"), o.out());
        assertTrue(o.out().contains("--aw-bits 48"), o.out());
        assertTrue(o.out().contains("--gigantic-pages 1"), o.out());
        assertTrue(o.out().contains("--kernel-args quiet"), o.out());
    }

    @Test
    void extraDevicesMoveAfterTheNicPair() throws IOException {
        Outcome o = dryRun("--nic-pair", "--device", "virtio-net");
        assertEquals(0, o.rc(), o.err());
        assertTrue(o.out().contains("--nic-pair"), o.out());
        assertTrue(o.out().contains("addr=0x9"), o.out());
        assertTrue(!o.out().contains("addr=0x7") && !o.out().contains("addr=0x8"), o.out());
    }

    @Test
    void extraDevicesSkipTheNumaExpandersSlot() throws IOException {
        Outcome o = dryRun("--numa", "--device", "virtio-net", "--device", "e1000e");
        assertEquals(0, o.rc(), o.err());
        assertTrue(o.out().contains("addr=0x7") && o.out().contains("addr=0x9"), o.out());
        assertTrue(!o.out().contains("addr=0x8"), o.out());
    }

    @Test
    void combinationsTheRigCannotBootAreRefused() throws IOException {
        Outcome both = dryRun("--nic-pair", "--numa");
        assertEquals(2, both.rc());
        assertTrue(both.err().contains("slot 00:08.0"), both.err());
        Outcome model = dryRun("--iommu-model", "arm");
        assertEquals(2, model.rc());
        assertTrue(model.err().contains("expected intel, amd or virtio"), model.err());
        Outcome width = dryRun("--aw-bits", "57");
        assertEquals(2, width.rc());
        assertTrue(width.err().contains("39 or 48"), width.err());
        Outcome noIommu = dryRun("--no-iommu", "--iommu-model", "amd");
        assertEquals(2, noIommu.rc());
        assertTrue(noIommu.err().contains("needs an IOMMU"), noIommu.err());
    }
}
