package io.dmadirect.cli.system;

import io.dmadirect.linux.sysfs.Mounts;

import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.IommuGroup;
import io.dmadirect.linux.sysfs.IommuState;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.sysfs.PciFunction;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Binds a PCI device to vfio-pci or uio_pci_generic through {@code driver_override}, and gives it back,
 * the way driverctl and dpdk-devbind do: set the override, unbind from the current driver, ask the bus to
 * probe. Before touching anything, {@link #refusals} says why binding would hurt: the device carries a
 * mounted disk or an interface that is up, or VFIO could not open its group anyway.
 *
 * @see <a href="https://docs.kernel.org/driver-api/vfio.html">VFIO</a>
 * @see <a href="https://www.kernel.org/doc/Documentation/ABI/testing/sysfs-bus-pci">sysfs-bus-pci: driver_override</a>
 */
public final class DriverBinding {
    public static final String VFIO_PCI = "vfio-pci";
    public static final String UIO_PCI_GENERIC = "uio_pci_generic";
    public static final List<String> DRIVERS = List.of(VFIO_PCI, UIO_PCI_GENERIC);

    /** Why binding is refused, and what the user does about it. */
    public record Refusal(String problem, String remedy) {
    }

    private final HostTree tree;
    private final PciBus bus;

    public DriverBinding(HostTree tree) {
        this.tree = tree;
        this.bus = new PciBus(tree);
    }

    /** Reasons not to bind {@code address} to {@code driver}; empty when binding is safe. */
    public List<Refusal> refusals(String address, String driver) {
        List<Refusal> refusals = new ArrayList<>();
        if (!DRIVERS.contains(driver)) {
            refusals.add(new Refusal("unknown driver " + driver, "use " + String.join(" or ", DRIVERS)));
            return refusals;
        }
        Optional<PciFunction> found = bus.device(address);
        if (found.isEmpty()) {
            refusals.add(new Refusal("no PCI device " + address, "list devices with `dmadirect info` or lspci -D"));
            return refusals;
        }
        PciFunction device = found.get();
        if (!bus.driverLoaded(driver)) {
            refusals.add(new Refusal("the " + driver + " driver is not loaded", "modprobe " + driver));
        }
        for (PciBus.BlockUse use : bus.blockDevicesInUse(address, Mounts.read(tree))) {
            refusals.add(new Refusal(address + " carries " + use.name() + ", " + use.usedAs(),
                    "stop using it first (umount, swapoff, or remove what holds it)"));
        }
        for (String netdev : bus.activeInterfaces(address)) {
            refusals.add(new Refusal(address + " drives network interface " + netdev + ", which is up",
                    "ip link set " + netdev + " down, if the host does not need it"));
        }
        if (driver.equals(VFIO_PCI)) {
            refusals.addAll(vfioGroupRefusals(device));
        }
        return refusals;
    }

    private List<Refusal> vfioGroupRefusals(PciFunction device) {
        if (device.iommuGroup() < 0) {
            if (IommuState.read(tree).noIommuMode()) {
                // vfio-pci's probe makes a no-IOMMU group (/dev/vfio/noiommu-N) for a device without one.
                return List.of();
            }
            return List.of(new Refusal(device.address() + " has no IOMMU group, so vfio-pci cannot take it",
                    "enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line), or for a host "
                            + "without one, use uio_pci_generic or VFIO's unsafe no-IOMMU mode"));
        }
        IommuGroup group = bus.groupOf(device).orElseThrow();
        List<PciFunction> blockers = group.blockersBesides(device.address());
        if (blockers.isEmpty()) {
            return List.of();
        }
        String names = blockers.stream().map(d -> d.address() + " (" + d.driver() + ")").collect(Collectors.joining(", "));
        String commands = blockers.stream().map(d -> "dmadirect bind " + d.address()).collect(Collectors.joining("; "));
        return List.of(new Refusal("IOMMU group " + group.number() + " would not be viable: " + names
                + " stay bound to host drivers", "bind the whole group: " + commands + "; then bind " + device.address()));
    }

    /** What a bind or unbind did. */
    public record Outcome(String address, String before, String after) {
    }

    /**
     * Binds {@code address} to {@code driver}. Throws with the refusals when {@link #refusals} is not empty,
     * and when the kernel leaves the device on another driver.
     */
    public Outcome bind(String address, String driver) throws IOException {
        List<Refusal> refusals = refusals(address, driver);
        if (!refusals.isEmpty()) {
            throw new IOException("refused to bind " + address + " to " + driver + ": " + refusals.stream()
                    .map(r -> r.problem() + " (" + r.remedy() + ")").collect(Collectors.joining("; ")));
        }
        PciFunction device = bus.device(address).orElseThrow();
        if (driver.equals(device.driver())) {
            return new Outcome(address, device.driver(), device.driver());
        }
        Path dir = bus.deviceDir(address);
        tree.write(dir.resolve("driver_override"), driver);
        if (device.bound()) {
            tree.write(dir.resolve("driver/unbind"), address);
        }
        tree.write(tree.path("/sys/bus/pci/drivers_probe"), address);
        String after = bus.device(address).map(PciFunction::driver).orElse(null);
        if (!driver.equals(after)) {
            throw new IOException("failed to bind " + address + " to " + driver + ": it is now bound to "
                    + (after == null ? "nothing" : after) + "; see dmesg for the driver's reason");
        }
        return new Outcome(address, device.driver(), after);
    }

    /**
     * Undoes {@link #bind}: unbinds, clears {@code driver_override}, and when {@code reprobe} lets the
     * kernel give the device back to its own driver.
     */
    public Outcome unbind(String address, boolean reprobe) throws IOException {
        PciFunction device = bus.device(address).orElseThrow(() -> new IOException("no PCI device " + address));
        Path dir = bus.deviceDir(address);
        if (device.bound()) {
            tree.write(dir.resolve("driver/unbind"), address);
        }
        // Writing a newline clears the override (the kernel's driver_override_store()).
        tree.write(dir.resolve("driver_override"), "\n");
        if (reprobe) {
            tree.write(tree.path("/sys/bus/pci/drivers_probe"), address);
        }
        return new Outcome(address, device.driver(), bus.device(address).map(PciFunction::driver).orElse(null));
    }
}
