package io.dmadirect.junit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds a test's device in sysfs: among the rig guest's devices ({@code DMADIRECT_RIG_*_BDF}) or among this
 * host's, bound to a userspace driver (vfio-pci, uio_pci_generic) so the session can open it.
 */
final class DeviceLocator {
    private static final Path DEVICES = Path.of("/sys/bus/pci/devices");

    private DeviceLocator() {
    }

    /** The rig's names for its devices, as {@code test-rigs/qemu/bind.sh} knows them. */
    static String canonical(String spec) {
        switch (spec.toLowerCase(Locale.ROOT)) {
            case "edu":
                return "1234:11e8";
            case "nvme":
                return "class:0x010802";
            default:
                return spec.toLowerCase(Locale.ROOT);
        }
    }

    static void checkSpec(String spec) {
        String s = canonical(spec);
        if (!s.matches("[0-9a-f]{4}:[0-9a-f]{4}") && !s.matches("class:0x[0-9a-f]{6}")) {
            throw new IllegalArgumentException("@DmaTest(device = \"" + spec + "\"): expected vendor:device in hex "
                    + "(\"1234:11e8\"), class:0xCCSSPP (\"class:0x010802\"), \"edu\" or \"nvme\"");
        }
    }

    /** The first device matching {@code spec} that a userspace driver holds, among {@code candidates}. */
    static Optional<String> find(String spec, List<String> candidates) {
        String s = canonical(spec);
        for (String bdf : candidates) {
            Path d = DEVICES.resolve(bdf);
            if (matches(d, s) && userspaceDriver(d)) {
                return Optional.of(bdf);
            }
        }
        return Optional.empty();
    }

    static List<String> rigCandidates() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            if (e.getKey().startsWith("DMADIRECT_RIG_") && e.getKey().endsWith("_BDF")) {
                out.add(e.getValue());
            }
        }
        out.sort(null);
        return out;
    }

    static List<String> hostCandidates() {
        if (!Files.isDirectory(DEVICES)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(DEVICES)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean matches(Path device, String spec) {
        if (spec.startsWith("class:")) {
            return read(device.resolve("class")).equals(spec.substring("class:".length()));
        }
        return (strip(read(device.resolve("vendor"))) + ":" + strip(read(device.resolve("device")))).equals(spec);
    }

    private static boolean userspaceDriver(Path device) {
        try {
            String driver = Files.readSymbolicLink(device.resolve("driver")).getFileName().toString();
            return driver.equals("vfio-pci") || driver.equals("uio_pci_generic");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static String strip(String hex) {
        return hex.startsWith("0x") ? hex.substring(2) : hex;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim().toLowerCase(Locale.ROOT);
        } catch (IOException e) {
            return "";
        }
    }
}
