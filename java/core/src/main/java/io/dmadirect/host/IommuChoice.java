package io.dmadirect.host;

import io.dmadirect.pci.PciAddress;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.host.LinuxPlatformOptions.IommuInterface;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Which kernel interface a session on vfio-pci with an IOMMU maps through, decided from sysfs and
 * {@code /dev} before anything is opened, so that an explicit iommufd request the kernel cannot meet is
 * refused with the reason and nothing to undo.
 *
 * <p>iommufd needs three things: the device's cdev ({@code vfio-dev/vfioN} in sysfs, which 6.1+ lists for every
 * VFIO device, and its node {@code /dev/vfio/devices/vfioN}, which needs 6.6+ with
 * {@code CONFIG_VFIO_DEVICE_CDEV}), {@code /dev/iommu} ({@code CONFIG_IOMMUFD}), and the right to open both.
 * {@link IommuInterface#AUTO} takes iommufd when all three hold, as libvfn does, and the type1 container
 * otherwise: udev rules or setups that only open {@code /dev/vfio/N} to a user keep working.
 */
final class IommuChoice {

    /** The decision: iommufd through {@code cdev}, or the type1 container ({@code cdev} null); {@code why} for the log. */
    record Choice(IommuInterface iface, Path cdev, String why) {
        boolean iommufd() {
            return iface == IommuInterface.IOMMUFD;
        }
    }

    private IommuChoice() {
    }

    /** Whether this process may open {@code node} read-write (what {@code open(O_RDWR)} will check). */
    static boolean openable(Path node) {
        return Files.isReadable(node) && Files.isWritable(node);
    }

    /**
     * @param wanted what the options ask for
     * @param sysfs the sysfs root ({@code /sys})
     * @param dev the device-node root ({@code /dev})
     * @param openable whether this process may open a node read-write
     */
    static Choice decide(IommuInterface wanted, Path sysfs, Path dev, PciAddress address, Predicate<Path> openable) {
        if (wanted == IommuInterface.VFIO_TYPE1) {
            return new Choice(IommuInterface.VFIO_TYPE1, null, "asked for");
        }
        String missing;
        Path cdev = null;
        String cdevName = cdevName(sysfs, address);
        Path iommu = dev.resolve("iommu");
        if (cdevName == null) {
            missing = "the kernel offers no VFIO device cdev for " + address + " (no vfio-dev/ in sysfs: it needs "
                    + "Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV)";
        } else if (!Files.exists(iommu)) {
            missing = "there is no " + iommu + " (the kernel lacks CONFIG_IOMMUFD, or the iommufd module is not "
                    + "loaded: modprobe iommufd)";
        } else {
            cdev = dev.resolve("vfio/devices").resolve(cdevName);
            if (!Files.exists(cdev)) {
                // Since 6.1 sysfs lists vfio-dev/vfioN for every VFIO device; the node needs 6.6+.
                missing = "there is no " + cdev + " (sysfs names " + cdevName + ", but the node needs Linux 6.6+ "
                        + "with CONFIG_VFIO_DEVICE_CDEV)";
            } else if (!openable.test(iommu) || !openable.test(cdev)) {
                missing = "this process may not open " + (openable.test(iommu) ? cdev : iommu) + " read-write";
            } else {
                return new Choice(IommuInterface.IOMMUFD, cdev, wanted == IommuInterface.AUTO
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
        return new Choice(IommuInterface.VFIO_TYPE1, null, "iommufd is not usable: " + missing);
    }

    /** The name of the device's cdev ({@code vfioN}) from {@code vfio-dev/} in sysfs, or null. */
    static String cdevName(Path sysfs, PciAddress address) {
        Path dir = sysfs.resolve("bus/pci/devices").resolve(address.toString()).resolve("vfio-dev");
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("vfio")).sorted().findFirst()
                    .orElse(null);
        } catch (IOException e) {
            return null;
        }
    }
}
