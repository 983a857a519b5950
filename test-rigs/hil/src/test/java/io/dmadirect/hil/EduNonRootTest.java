package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lab notebook: IOVA mode without root.
 * Device: edu behind intel-iommu, on vfio-pci (IOVA mode through VFIO type1, or iommufd where the kernel has it).
 * Setup: the JUnit JVM is root, so one child JVM ({@link NonRootEduProbe}) runs as nobody, with no
 * capabilities, group dmatest as its only extra group and RLIMIT_MEMLOCK of 48 MiB. /dev/vfio/N of the
 * edu's group is given to dmatest with mode 0660 here, as the udev rules (udev/70-dmadirect-vfio.rules.in)
 * do: cli-udev-checks.sh has stopped its udevd and removed the rules before the suite binds the edu, so
 * the node is root's 0600 at this point; the old owner and mode are put back after. The shared root
 * session of the edu is closed first, since VFIO lets one process at a time hold a group.
 * Action: in the child, a session asking for 96 MiB (twice the limit), then one of 32 MiB with a DMA
 * round trip through the edu.
 * Seen: the first is refused with the memlock remedy; the second opens in IOVA mode, VmLck shows the
 * 32 MiB VFIO type1 pinned (no mlock on top), and the pattern arrives intact at IOVAs the IOMMU maps. On the
 * iommufd kernel /dev/iommu and the edu's cdev are given to the group as well, the session maps through
 * iommufd, and the 32 MiB show as VmPin with VmLck 0: iommufd charges the user, not the process's locks.
 * PA mode as a non-root user is refused before any hugepage is touched: {@code NonRootHostTest} on the host.
 */
@Tag("iommu")
class EduNonRootTest {
    private static final int MEMORY_MIB = 32;
    private static final int LIMIT_MIB = 48;
    private static final String GROUP = "dmatest";

    @Test
    void nobodyInTheVfioGroupDoesDmaInIovaMode(@TempDir Path tmp) throws Exception {
        Rig.requireRig();
        Rig.require(Rig.iommu(), "IOVA mode needs the intel-iommu variant; this guest has no IOMMU");
        String bdf = System.getenv("DMADIRECT_RIG_EDU_BDF");
        Path groupLink = Files.readSymbolicLink(Path.of("/sys/bus/pci/devices", bdf, "iommu_group"));
        // What the udev rules give the group: the group node, and on a kernel with iommufd also /dev/iommu and
        // the device's cdev, so that AUTO maps through iommufd as it does for root.
        List<Path> nodes = new ArrayList<>(List.of(Path.of("/dev/vfio", groupLink.getFileName().toString())));
        if (Rig.iommufd()) {
            nodes.add(Path.of("/dev/iommu"));
            try (Stream<Path> cdevs = Files.list(Path.of("/sys/bus/pci/devices", bdf, "vfio-dev"))) {
                cdevs.forEach(c -> nodes.add(Path.of("/dev/vfio/devices", c.getFileName().toString())));
            }
        }
        Rig.releaseEdu();

        int gid = groupId();
        List<NodeAccess> given = new ArrayList<>();
        String classpath = worldReadableClasspath(tmp);
        String out;
        int exit;
        try {
            for (Path node : nodes) {
                given.add(NodeAccess.giveTo(node, GROUP));
            }
            Rig.note("non-root: " + given + " given to " + GROUP + " (gid " + gid + ") 0660 as the udev rules do");
            Path log = tmp.resolve("child.out");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = List.of("bash", "-c", "ulimit -l " + LIMIT_MIB * 1024 + " && exec \"$@\"", "child",
                    "setpriv", "--reuid=nobody", "--regid=nogroup", "--groups=" + gid, "--inh-caps=-all",
                    "--bounding-set=-all", "--", java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                    "-cp", classpath, NonRootEduProbe.class.getName(), bdf, Integer.toString(MEMORY_MIB),
                    Integer.toString(LIMIT_MIB));
            long start = System.nanoTime();
            Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!child.waitFor(240, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor();
                fail("the child did not finish in 240 s:\n" + Files.readString(log));
            }
            exit = child.exitValue();
            out = Files.readString(log, StandardCharsets.UTF_8);
            Rig.note("non-root: child JVM exit " + exit + " after " + (System.nanoTime() - start) / 1_000_000 + " ms");
        } finally {
            for (NodeAccess access : given) {
                access.restore();
            }
        }
        System.out.println(out);
        for (String line : out.split("\n")) {
            if (line.startsWith("WHO ") || line.startsWith("REFUSED ") || line.startsWith("SESSION ")
                    || line.startsWith("DMA ")) {
                Rig.note("non-root: " + line.trim());
            }
        }
        assertEquals(NonRootEduProbe.OK, exit, out);
        assertTrue(out.contains("WHO Uid: 65534 65534 65534 65534") && out.contains("CapEff: 0000000000000000"), out);
        assertTrue(out.contains("REFUSED 96 MiB: failed to pin 96 MiB of DMA memory for the IOMMU: RLIMIT_MEMLOCK is "
                + "48 MiB (hard limit 48 MiB) but 96 MiB must be pinned"), out);
        String kb = MEMORY_MIB * 1024 + " kB";
        if (Rig.iommufd()) {
            // iommufd charges the user's locked_vm (not shown per process) and the process's pinned_vm (VmPin),
            // and locks nothing: pages.c, do_update_pinned() with IOPT_PAGES_ACCOUNT_USER.
            assertTrue(out.contains(", IOVA mode through iommufd, 32 MiB mapped in "), out);
            assertTrue(out.contains("VmLck: 0 kB") && out.contains("VmPin: " + kb), "iommufd pinned exactly the memory: "
                    + out);
        } else {
            // VFIO type1 charges the process's locked_vm (VmLck): vfio_lock_acct().
            assertTrue(out.contains(", IOVA mode through vfio-type1, 32 MiB mapped in "), out);
            assertTrue(out.contains("VmLck: " + kb), "VFIO pinned exactly the memory: " + out);
        }
        assertTrue(out.contains("(both mapped in the IOMMU), data MATCH"), out);
    }

    /** The gid of dmatest, creating the group when the CLI and udev checks have not. */
    private static int groupId() throws IOException, InterruptedException {
        String entry = run("getent", "group", GROUP);
        if (entry.isBlank()) {
            run("groupadd", "--system", GROUP);
            entry = run("getent", "group", GROUP);
        }
        return Integer.parseInt(entry.trim().split(":")[2]);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return p.exitValue() == 0 ? text : "";
    }

    /**
     * What the child needs of this JVM's classpath (our classes and their libraries, not JUnit; the jars
     * live under /root, which nobody may not read), copied to a directory anyone can read.
     */
    private static String worldReadableClasspath(Path tmp) throws IOException {
        tmp.toFile().setReadable(true, false);
        tmp.toFile().setExecutable(true, false);
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            String name = source.getFileName().toString();
            boolean testOnly = name.startsWith("junit") || name.startsWith("opentest4j") || name.startsWith("apiguardian");
            if (!Files.exists(source) || testOnly) {
                continue;
            }
            Path target = tmp.resolve(i++ + "-" + source.getFileName());
            try (Stream<Path> files = Files.walk(source)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Path to = target.resolve(source.relativize(file).toString());
                    if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectories(to);
                        to.toFile().setExecutable(true, false);
                    } else {
                        Files.createDirectories(to.getParent());
                        Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
                    }
                    to.toFile().setReadable(true, false);
                }
            }
            entries.add(target.toString());
        }
        return String.join(File.pathSeparator, entries);
    }
}
