package io.dmadirect.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.Mounts;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.sysfs.PciFunction;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The host commands on this host: they run, their JSON parses, and the exit code agrees with what they report. */
class HostCommandsTest {

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = DmadirectCommand.commandLine().execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void infoJsonHasEverySection() {
        Run r = run("info", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject info = JsonParser.parseString(r.out()).getAsJsonObject();
        for (String key : new String[] {"cpu", "memory", "hugepages", "iommu", "pciDevices", "confidentialVm"}) {
            assertTrue(info.has(key), key + " in " + r.out());
        }
        assertTrue(info.getAsJsonObject("cpu").get("cacheMaintenance").getAsString().startsWith("clean "),
                "the bridge loads in the CLI too: " + info.getAsJsonObject("cpu"));
        JsonObject memory = info.getAsJsonObject("memory");
        assertTrue(memory.get("requiredMaskBits").getAsInt() >= 30, memory.toString());
        assertTrue(memory.getAsJsonArray("zones").size() > 0, memory.toString());
        assertEquals(new PciBus(HostTree.HOST).devices().size(), info.getAsJsonArray("pciDevices").size());
    }

    @Test
    void infoTextRuns() {
        Run r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("requiredMaskBits: "), r.out());
    }

    @Test
    void doctorJsonExitCodeMatchesItsVerdicts() {
        Run r = run("doctor", "--json");
        JsonObject report = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonArray checks = report.getAsJsonArray("checks");
        assertEquals(9, checks.size(), r.out());
        boolean failed = false;
        for (JsonElement e : checks) {
            JsonObject c = e.getAsJsonObject();
            String verdict = c.get("verdict").getAsString();
            assertTrue(verdict.matches("PASS|WARN|FAIL"), verdict);
            if (!verdict.equals("PASS")) {
                assertTrue(!c.get("remedy").isJsonNull(), "a " + verdict + " without remedy: " + c);
            }
            failed |= verdict.equals("FAIL");
        }
        assertEquals(!failed, report.get("ok").getAsBoolean());
        assertEquals(failed ? 1 : 0, r.code());
    }

    @Test
    void doctorTextPrintsAFixUnderEachFailure() {
        Run r = run("doctor");
        if (r.out().contains("FAIL ")) {
            assertTrue(r.out().contains("fix: "), r.out());
        }
        assertTrue(r.code() == 0 || r.code() == 1);
    }

    @Test
    void hugepagesShowJson() {
        Run r = run("hugepages", "--show", "--json");
        assertEquals(0, r.code(), r.err());
        JsonArray pools = JsonParser.parseString(r.out()).getAsJsonArray();
        for (JsonElement e : pools) {
            JsonObject p = e.getAsJsonObject();
            assertTrue(p.get("free").getAsLong() <= p.get("total").getAsLong(), p.toString());
        }
        assertEquals(0, run("hugepages").code());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run("frobnicate").code());
        assertEquals(2, run("bind").code(), "missing address");
        assertEquals(2, run("hugepages", "--show", "--reserve", "4").code(), "exclusive options");
        assertEquals(2, run("doctor", "--mask-bits", "many").code());
    }

    @Test
    void helpEverywhere() {
        for (String command : new String[] {"info", "doctor", "bind", "unbind", "hugepages", "bench", "demo"}) {
            Run r = run(command, "--help");
            assertEquals(0, r.code(), command);
            assertTrue(r.out().startsWith("Usage: dmadirect " + command), r.out());
        }
        assertEquals(0, run("--help").code());
    }

    @Test
    void bindRefusesTheDeviceThatCarriesTheRootFileSystem() {
        // On this host (and most), some PCI device carries the mounted root; binding it must be refused.
        PciBus bus = new PciBus(HostTree.HOST);
        Mounts mounts = Mounts.read(HostTree.HOST);
        Optional<PciFunction> root = bus.devices().stream()
                .filter(d -> !bus.blockDevicesInUse(d.address(), mounts).isEmpty()).findFirst();
        // CI's machines boot from a virtio disk, a PCI device; a host without one cannot show the refusal.
        HostRequirement.require(root.isPresent(), "no PCI device carries a mounted disk here");
        Run r = run("bind", root.get().address(), "--driver", "uio_pci_generic", "--dry-run");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("carries ") && r.err().contains("mounted on"), r.err());
    }

    @Test
    void unknownDeviceIsAFailureNotAUsageError() {
        Run r = run("unbind", "0000:ff:1f.7");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no PCI device 0000:ff:1f.7"), r.err());
    }

    @Test
    void benchWithoutTheJarSaysHowToBuildIt() {
        Run r = run("bench", "--jar", "/nonexistent/benchmarks.jar");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("mvn -B -pl java/bench -am package"), r.err());
        assertEquals("[####################                    ]  50.0%", BenchCommand.bar(50));
    }
}
