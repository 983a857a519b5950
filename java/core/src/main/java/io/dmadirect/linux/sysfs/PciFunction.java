package io.dmadirect.linux.sysfs;

/**
 * A PCI function as /sys/bus/pci/devices/&lt;address&gt; shows it.
 *
 * @param address        domain:bus:device.function, e.g. {@code 0000:00:04.0}
 * @param vendor         the vendor id
 * @param device         the device id
 * @param classCode      the 24-bit class code (base class, subclass, programming interface)
 * @param bridge         a bridge (config header type other than 0): VFIO lets bridges share a group
 * @param driver         the bound driver, or null when none
 * @param driverOverride the driver_override attribute, or null when unset
 * @param iommuGroup     the IOMMU group number, or -1 when the device has none (IOMMU off)
 * @param numaNode       the NUMA node, or -1 when unknown
 */
public record PciFunction(String address, int vendor, int device, int classCode, boolean bridge, String driver,
        String driverOverride, int iommuGroup, int numaNode) {

    /** {@code 8086:10d3}, as lspci -n and the udev rules write it. */
    public String id() {
        return String.format("%04x:%04x", vendor, device);
    }

    public boolean bound() {
        return driver != null;
    }

    /** Bound to a VFIO driver: vfio-pci, or a variant driver such as mlx5_vfio_pci. */
    public boolean boundToVfio() {
        return driver != null && (driver.startsWith("vfio") || driver.endsWith("_vfio_pci"));
    }
}
