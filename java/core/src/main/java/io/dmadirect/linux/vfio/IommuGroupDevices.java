package io.dmadirect.linux.vfio;

import io.dmadirect.linux.sysfs.PciBus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The devices of an IOMMU group and their drivers, from {@code /sys/kernel/iommu_groups/N/devices/},
 * for the message when a group is not viable.
 */
final class IommuGroupDevices {
    private IommuGroupDevices() {
    }

    /** "0000:00:1f.0 (driver lpc_ich), 0000:00:1f.3 (no driver)", the devices not on vfio-pci first. */
    static String describe(PciBus bus, String group) {
        Optional<List<PciBus.GroupMember>> members = bus.groupMembers(group);
        if (members.isEmpty()) {
            return "(cannot list " + bus.groupDevicesDir(group) + ")";
        }
        List<String> blocking = new ArrayList<>();
        List<String> fine = new ArrayList<>();
        for (PciBus.GroupMember d : members.get()) {
            String driver = d.driver();
            String text = d.address() + " (" + (driver == null ? "no driver" : "driver " + driver) + ")";
            (driver == null || driver.equals("vfio-pci") ? fine : blocking).add(text);
        }
        List<String> all = new ArrayList<>(blocking);
        all.addAll(fine);
        return String.join(", ", all);
    }
}
