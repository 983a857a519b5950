package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/hugepage-pools, which .ci/run uses to start the tests from empty pools and give a developer's
 * reservations back, and ./run-tests to show that its stages left every pool as they found it; on a fake
 * /sys/kernel/mm/hugepages (HUGEPAGE_SYSFS), so it needs neither root nor real hugepages.
 */
class HugepagePoolsScriptTest {
    @TempDir
    Path dir;
    private Path sysfs;

    @BeforeEach
    void fakePools() throws IOException {
        sysfs = dir.resolve("hugepages");
        pool("hugepages-2048kB", 40, 8);
        pool("hugepages-1048576kB", 2, 0);
    }

    @Test
    void emptiesEveryPoolAndRestoresWhatWasRecorded() throws Exception {
        Path recorded = dir.resolve("recorded");
        assertEquals(0, run("record", recorded.toString()).code);
        assertEquals(List.of("hugepages-1048576kB 2 0", "hugepages-2048kB 40 8"), Files.readAllLines(recorded));

        assertEquals(0, run("empty").code);
        assertEquals("0 0 0 0", read("hugepages-2048kB") + " " + read("hugepages-1048576kB"));

        Result changed = run("check", recorded.toString(), "the host tests");
        assertEquals(1, changed.code);
        assertTrue(changed.err.contains("the host tests left the hugepage pools changed")
                && changed.err.contains("hugepages-2048kB: nr_hugepages/nr_overcommit_hugepages recorded 40/8, now 0/0")
                && changed.err.contains("hugepages-1048576kB: nr_hugepages/nr_overcommit_hugepages recorded 2/0, now 0/0"),
                changed.err);

        assertEquals(0, run("restore", recorded.toString()).code);
        assertEquals("40 8 2 0", read("hugepages-2048kB") + " " + read("hugepages-1048576kB"));
        assertEquals(0, run("check", recorded.toString(), "the host tests").code);
    }

    @Test
    void aPoolLeftWithMorePagesFailsTheCheck() throws Exception {
        Path recorded = dir.resolve("recorded");
        run("record", recorded.toString());
        Files.writeString(sysfs.resolve("hugepages-2048kB/nr_hugepages"), "41\n");
        Result r = run("check", recorded.toString(), "the rig stage");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("the rig stage left the hugepage pools changed: hugepages-2048kB: nr_hugepages/"
                + "nr_overcommit_hugepages recorded 40/8, now 41/8;"), r.err);
    }

    @Test
    void aHostWithoutPoolsHasNothingToRecordOrCheck() throws Exception {
        sysfs = dir.resolve("none");
        Path recorded = dir.resolve("recorded");
        assertEquals(0, run("record", recorded.toString()).code);
        assertEquals(0, Files.size(recorded));
        assertEquals(0, run("empty").code);
        assertEquals(0, run("check", recorded.toString(), "anything").code);
    }

    /**
     * On this host's own pools: recording then restoring what is there must succeed, since .ci/run does it
     * around every run. The kernel refuses any write to a gigantic pool's nr_overcommit_hugepages (EINVAL,
     * 0 included), which a fake tree cannot show: the first CI run of this script failed on it.
     */
    @Test
    void thisHostsPoolsRestoreToWhatTheyAre() throws Exception {
        HostRequirement.requireHugepages();
        sysfs = Path.of("/sys/kernel/mm/hugepages");
        Path recorded = dir.resolve("recorded");
        assertEquals(0, run("record", recorded.toString()).code);
        Result restored = run("restore", recorded.toString());
        assertEquals(0, restored.code, restored.err);
        assertEquals(0, run("check", recorded.toString(), "a restore").code);
    }

    @Test
    void usageErrorsExit2() throws Exception {
        assertEquals(2, run("restore", dir.resolve("never-recorded").toString()).code);
        assertEquals(2, run("frobnicate").code);
    }

    private void pool(String name, int pages, int overcommit) throws IOException {
        Path p = Files.createDirectories(sysfs.resolve(name));
        Files.writeString(p.resolve("nr_hugepages"), pages + "\n");
        Files.writeString(p.resolve("nr_overcommit_hugepages"), overcommit + "\n");
    }

    private String read(String pool) throws IOException {
        return Files.readString(sysfs.resolve(pool + "/nr_hugepages")).trim() + " "
                + Files.readString(sysfs.resolve(pool + "/nr_overcommit_hugepages")).trim();
    }

    private record Result(int code, String out, String err) {
    }

    private Result run(String... args) throws Exception {
        Path script = repositoryRoot().resolve("scripts/hugepage-pools");
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString());
        pb.command().addAll(List.of(args));
        pb.environment().put("HUGEPAGE_SYSFS", sysfs.toString());
        pb.redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "hugepage-pools " + String.join(" ", args) + " hung");
        return new Result(p.exitValue(), Files.readString(dir.resolve("out"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("err"), StandardCharsets.UTF_8));
    }

    private static Path repositoryRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("scripts/hugepage-pools"))) {
                return d;
            }
        }
        throw new AssertionError("no scripts/hugepage-pools above " + Path.of("").toAbsolutePath());
    }
}
