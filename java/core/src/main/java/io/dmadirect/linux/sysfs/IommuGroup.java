package io.dmadirect.linux.sysfs;

import java.util.List;
import java.util.stream.Collectors;

/**
 * An IOMMU group: the devices the IOMMU cannot tell apart, which VFIO hands out only together.
 *
 * <p>Viability follows the kernel's {@code vfio_dev_driver_allowed()} and its group check: VFIO opens a
 * group only when every member is bound to a VFIO driver, is bound to nothing, is bound to pci-stub, or is
 * a bridge. A member bound to a host driver (nvme, e1000e) could DMA anywhere in the same IOVA space.
 *
 * @see <a href="https://docs.kernel.org/driver-api/vfio.html">VFIO: groups, devices and IOMMUs</a>
 */
public record IommuGroup(int number, List<PciFunction> members) {

    /** Drivers the kernel lets share a group with VFIO devices (vfio_driver_allowed[]). */
    static final List<String> ALLOWED_DRIVERS = List.of("pci-stub");

    /** Whether this member keeps the group viable. */
    public static boolean memberAllowed(PciFunction d) {
        return d.bridge() || !d.bound() || d.boundToVfio() || ALLOWED_DRIVERS.contains(d.driver());
    }

    public boolean viable() {
        return blockers().isEmpty();
    }

    /** The members that keep the group from being opened. */
    public List<PciFunction> blockers() {
        return members.stream().filter(d -> !memberAllowed(d)).collect(Collectors.toList());
    }

    /** The members that would still block once {@code address} is bound to VFIO. */
    public List<PciFunction> blockersBesides(String address) {
        return blockers().stream().filter(d -> !d.address().equals(address)).collect(Collectors.toList());
    }
}
