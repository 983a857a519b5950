package io.dmadirect.linux.vfio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The devices of an IOMMU group and their drivers, from {@code /sys/kernel/iommu_groups/N/devices/},
 * for the message when a group is not viable.
 */
final class IommuGroupDevices {
    private IommuGroupDevices() {
    }

    /** "0000:00:1f.0 (driver lpc_ich), 0000:00:1f.3 (no driver)", the devices not on vfio-pci first. */
    static String describe(Path sysfs, String group) {
        Path dir = sysfs.resolve("kernel/iommu_groups").resolve(group).resolve("devices");
        List<String> blocking = new ArrayList<>();
        List<String> fine = new ArrayList<>();
        try (Stream<Path> devices = Files.list(dir)) {
            for (Path d : (Iterable<Path>) devices.sorted()::iterator) {
                String driver = driverOf(d);
                String text = d.getFileName() + " (" + (driver == null ? "no driver" : "driver " + driver) + ")";
                (driver == null || driver.equals("vfio-pci") ? fine : blocking).add(text);
            }
        } catch (IOException e) {
            return "(cannot list " + dir + ": " + e.getMessage() + ")";
        }
        List<String> all = new ArrayList<>(blocking);
        all.addAll(fine);
        return String.join(", ", all);
    }

    /** The name of the driver bound to the device at sysfs path {@code device}, or null. */
    static String driverOf(Path device) {
        Path link = device.resolve("driver");
        try {
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
