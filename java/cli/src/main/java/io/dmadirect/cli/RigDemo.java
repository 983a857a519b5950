package io.dmadirect.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo when no device is bound on this host: prepares the QEMU rig (test-rigs/qemu/prepare.sh),
 * boots its guest with intel-iommu, an edu and an NVMe device, binds both to vfio-pci, and runs this
 * same command in it, where {@link DeviceDemo} finds them. Progress is shown while the guest boots.
 */
final class RigDemo {
    private final PrintStream out;

    RigDemo(PrintStream out) {
        this.out = out;
    }

    /** The checkout's root: {@code DMADIRECT_ROOT}, or the first parent of the code or the cwd with test-rigs/qemu. */
    static Path findRoot() {
        String env = System.getenv("DMADIRECT_ROOT");
        if (env != null) {
            return Path.of(env);
        }
        List<Path> starts = new ArrayList<>();
        try {
            starts.add(Path.of(RigDemo.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (Exception e) {
            // fall back to the working directory
        }
        starts.add(Path.of("").toAbsolutePath());
        for (Path p : starts) {
            for (Path d = p; d != null; d = d.getParent()) {
                if (Files.isExecutable(d.resolve("test-rigs/qemu/run-guest.sh"))) {
                    return d;
                }
            }
        }
        return null;
    }

    boolean run() {
        Path root = findRoot();
        if (root == null) {
            out.println("dmadirect demo: no edu or NVMe device is bound to vfio-pci or uio_pci_generic here, and the "
                    + "QEMU rig (test-rigs/qemu) is not found: run it from a clone, or set DMADIRECT_ROOT, or use "
                    + "--simulated");
            return false;
        }
        Path rig = root.resolve("test-rigs/qemu");
        out.println("dmadirect demo: no device bound on this host; running in the QEMU rig (" + rig + ")");
        out.println("[1/3] preparing the rig (packages, kernel, initramfs; ~1 s when prepared, ~40 s the first time)");
        long t0 = System.nanoTime();
        if (exec(List.of(rig.resolve("prepare.sh").toString()), "prepare", null) != 0) {
            out.println("FAIL: the rig's prepare.sh failed (it needs root the first time: sudo ./dmadirect demo)");
            return false;
        }
        out.printf("      prepared in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        out.println("[2/3] booting the guest: q35 + intel-iommu, edu (28-bit DMA), NVMe (serial dmadirect-rig) "
                + "and two e1000e on one hub, "
                + "under TCG: 10-60 s");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        String cmd = "set -e; ulimit -l unlimited; " + q(rig.resolve("bind.sh")) + " edu vfio-pci >/dev/null; "
                + q(rig.resolve("bind.sh")) + " nvme vfio-pci >/dev/null; "
                + q(rig.resolve("bind.sh")) + " e1000e vfio-pci >/dev/null; " // [nic] issue 22: the --nic-pair NICs
                + "echo '[3/3] guest up, devices bound to vfio-pci; "
                + "running the demo in it'; exec " + q(java) + " -XX:+UnlockDiagnosticVMOptions "
                + "-XX:ArchiveRelocationMode=0 -XX:TieredStopAtLevel=1 -cp " + q(cp) + " io.dmadirect.cli.DmadirectCommand demo";
        List<String> argv = List.of(rig.resolve("run-guest.sh").toString(), "--iommu", "--nic-pair", "--mem", "1536M", "--hugepages",
                "64", "--timeout", "600", "--", "bash", "-c", cmd);
        int rc = exec(argv, "boot", "[3/3]");
        if (rc != 0) {
            out.println("FAIL: the rig run ended with exit " + rc + (rc == 125 ? " (no result from the guest)" : rc == 124
                    ? " (timeout)" : ""));
            return false;
        }
        out.printf("(whole rig demo: %.0f s)%n", (System.nanoTime() - t0) / 1e9);
        return true;
    }

    private static String q(Object s) {
        return "'" + s.toString().replace("'", "'\\''") + "'";
    }

    /**
     * Runs {@code argv}, streaming its output. Until a line starting with {@code readyMark} arrives (when
     * given), only progress is shown: the elapsed time every few seconds and the rig's own milestones.
     */
    private int exec(List<String> argv, String what, String readyMark) {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        AtomicBoolean ready = new AtomicBoolean(readyMark == null);
        long t0 = System.nanoTime();
        try {
            Process p = pb.start();
            Thread ticker = new Thread(() -> {
                try {
                    while (!ready.get() && p.isAlive()) {
                        Thread.sleep(5000);
                        if (!ready.get() && p.isAlive()) {
                            out.printf("      ... %s, %.0f s%n", what, (System.nanoTime() - t0) / 1e9);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "demo-progress");
            ticker.setDaemon(true);
            ticker.start();
            List<String> held = new ArrayList<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!ready.get() && line.startsWith(readyMark)) {
                        ready.set(true);
                    }
                    if (ready.get()) {
                        if (!line.startsWith("[rig]") && !line.contains("INFO:") && !line.startsWith(" INFO")
                                && !isJulHeader(line)) {
                            out.println(line);
                        }
                    } else {
                        held.add(line);
                        if (line.startsWith("[rig]")) {
                            out.println("      " + line);
                        }
                    }
                }
            }
            int rc = p.waitFor();
            ready.set(true);
            if (rc != 0 && readyMark != null) {
                held.stream().skip(Math.max(0, held.size() - 20)).forEach(l -> out.println("      | " + l));
            }
            return rc;
        } catch (IOException e) {
            out.println("cannot run " + argv.get(0) + ": " + e.getMessage());
            return 127;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }

    /** java.util.logging's first line of a record: "Mon DD, YYYY hh:mm:ss AM class method". */
    private static boolean isJulHeader(String line) {
        return line.matches("^[A-Z][a-z]{2} \\d{1,2}, \\d{4} .*");
    }
}
