package io.dmadirect.host;

import io.dmadirect.host.LinuxPlatformOptions.IommuInterface;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.iommufd.IommufdContext;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.uio.UioContext;
import io.dmadirect.linux.vfio.VfioContainer;
import io.dmadirect.linux.vfio.VfioPciDevice;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.IommuContext;
import io.dmadirect.pci.PciAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Which {@link IommuContext} a session opens its device in, decided from sysfs and {@code /dev} before anything is
 * opened, so that a device on the wrong driver, or an explicit iommufd request the kernel cannot meet, is refused
 * with the reason and nothing to undo:
 * <ul>
 * <li>uio_pci_generic: {@link Kind#UIO};</li>
 * <li>vfio-pci whose group has a {@code /dev/vfio/noiommu-N} node: {@link Kind#VFIO_NOIOMMU};</li>
 * <li>vfio-pci with an IOMMU group: {@link Kind#IOMMUFD} or {@link Kind#VFIO_TYPE1}, as below.</li>
 * </ul>
 *
 * <p>iommufd needs three things: the device's cdev ({@code vfio-dev/vfioN} in sysfs, which 6.1+ lists for every
 * VFIO device, and its node {@code /dev/vfio/devices/vfioN}, which needs 6.6+ with
 * {@code CONFIG_VFIO_DEVICE_CDEV}), {@code /dev/iommu} ({@code CONFIG_IOMMUFD}), and the right to open both.
 * {@link IommuInterface#AUTO} takes iommufd when all three hold, as libvfn does, and the type1 container
 * otherwise: udev rules or setups that only open {@code /dev/vfio/N} to a user keep working.
 */
final class IommuChoice {

    /** The four contexts, with the name and address mode each has ({@link IommuContext#name()}, {@link IommuContext#mode()}). */
    enum Kind {
        UIO("uio", AddressMode.PA),
        VFIO_NOIOMMU("vfio-noiommu", AddressMode.PA),
        VFIO_TYPE1("vfio-type1", AddressMode.IOVA),
        IOMMUFD("iommufd", AddressMode.IOVA);

        final String contextName;
        final AddressMode mode;

        Kind(String contextName, AddressMode mode) {
            this.contextName = contextName;
            this.mode = mode;
        }
    }

    /**
     * The decision: the context's kind, the driver the device is bound to, the device's cdev node for iommufd
     * (null otherwise), and {@code why} for the log.
     */
    record Choice(Kind kind, String driver, Path cdev, String why) {
        boolean iommufd() {
            return kind == Kind.IOMMUFD;
        }

        /** Opens the chosen context (nothing is opened for UIO). */
        IommuContext open(Syscalls sys, PciBus bus) {
            return switch (kind) {
                case UIO -> new UioContext(sys, bus);
                case VFIO_NOIOMMU -> VfioContainer.open(sys, bus, true);
                case VFIO_TYPE1 -> VfioContainer.open(sys, bus, false);
                case IOMMUFD -> IommufdContext.open(sys, address -> cdevNode(bus, address).toString());
            };
        }
    }

    private IommuChoice() {
    }

    /** Whether this process may open {@code node} read-write (what {@code open(O_RDWR)} will check). */
    static boolean openable(Path node) {
        return Files.isReadable(node) && Files.isWritable(node);
    }

    /**
     * The context for {@code address}, from the driver it is bound to and, on vfio-pci, its IOMMU group.
     *
     * @param wanted what the options ask for when the device is behind an IOMMU
     * @param tree sysfs and {@code /dev}
     * @param openable whether this process may open a node read-write
     */
    static Choice choose(IommuInterface wanted, HostTree tree, PciAddress address, Predicate<Path> openable) {
        PciBus bus = new PciBus(tree);
        String driver = bus.driverOf(address).orElse(null);
        if ("uio_pci_generic".equals(driver)) {
            return new Choice(Kind.UIO, driver, null, "bound to uio_pci_generic");
        }
        if (!"vfio-pci".equals(driver)) {
            throw LinuxException.setup("open " + address + " for a userspace driver", driver == null
                    ? "it is bound to no driver" : "it is bound to " + driver,
                    "bind it to vfio-pci (or uio_pci_generic without an IOMMU): dmadirect bind " + address);
        }
        String group = VfioPciDevice.iommuGroup(bus, address);
        if (bus.noIommuGroup(group)) {
            return new Choice(Kind.VFIO_NOIOMMU, driver, null, "group " + group + " is a no-IOMMU group");
        }
        return decide(wanted, tree, address, openable);
    }

    /**
     * For a device on vfio-pci behind an IOMMU: iommufd or the type1 container.
     *
     * @param wanted what the options ask for
     * @param tree sysfs and {@code /dev}
     * @param openable whether this process may open a node read-write
     */
    static Choice decide(IommuInterface wanted, HostTree tree, PciAddress address, Predicate<Path> openable) {
        if (wanted == IommuInterface.VFIO_TYPE1) {
            return new Choice(Kind.VFIO_TYPE1, "vfio-pci", null, "asked for");
        }
        PciBus bus = new PciBus(tree);
        String missing;
        Path cdev = null;
        String cdevName = bus.vfioCdev(address).orElse(null);
        Path iommu = tree.path("/dev/iommu");
        if (cdevName == null) {
            missing = "the kernel offers no VFIO device cdev for " + address + " (no vfio-dev/ in sysfs: it needs "
                    + "Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV)";
        } else if (!Files.exists(iommu)) {
            missing = "there is no " + iommu + " (the kernel lacks CONFIG_IOMMUFD, or the iommufd module is not "
                    + "loaded: modprobe iommufd)";
        } else {
            cdev = bus.vfioCdevNode(cdevName);
            if (!Files.exists(cdev)) {
                // Since 6.1 sysfs lists vfio-dev/vfioN for every VFIO device; the node needs 6.6+.
                missing = "there is no " + cdev + " (sysfs names " + cdevName + ", but the node needs Linux 6.6+ "
                        + "with CONFIG_VFIO_DEVICE_CDEV)";
            } else if (!openable.test(iommu) || !openable.test(cdev)) {
                missing = "this process may not open " + (openable.test(iommu) ? cdev : iommu) + " read-write";
            } else {
                return new Choice(Kind.IOMMUFD, "vfio-pci", cdev, wanted == IommuInterface.AUTO
                        ? "the kernel offers it (" + iommu + ", " + cdev + ")" : "asked for");
            }
        }
        if (wanted == IommuInterface.IOMMUFD) {
            throw LinuxException.setup("open " + address + " through iommufd", missing,
                    missing.startsWith("this process")
                            ? "give the group of the udev rules access (dmadirect udev install) or run as root; "
                                    + "or use the VFIO type1 container (IommuInterface.VFIO_TYPE1 or AUTO)"
                            : "use the VFIO type1 container (IommuInterface.VFIO_TYPE1 or AUTO)");
        }
        return new Choice(Kind.VFIO_TYPE1, "vfio-pci", null, "iommufd is not usable: " + missing);
    }

    /** The node of the device's cdev, {@code /dev/vfio/devices/vfioN}; refused when sysfs names none. */
    private static Path cdevNode(PciBus bus, PciAddress address) {
        return bus.vfioCdevNode(bus.vfioCdev(address).orElseThrow(() -> LinuxException.setup(
                "open " + address + " through iommufd", "the kernel offers no VFIO device cdev for it",
                "use the VFIO type1 container (IommuInterface.VFIO_TYPE1 or AUTO)")));
    }
}
