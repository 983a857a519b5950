package io.dmadirect.linux.vfio;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Fcntl;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.PciAddress;
import java.nio.ByteBuffer;

/**
 * A VFIO group ({@code /dev/vfio/N}, or {@code /dev/vfio/noiommu-N}): checked for viability, joined to
 * a container, and asked for device descriptors.
 */
final class VfioGroup implements AutoCloseable {
    private final Syscalls sys;
    private final int fd;
    private final String group;
    private boolean closed;

    private VfioGroup(Syscalls sys, int fd, String group) {
        this.sys = sys;
        this.fd = fd;
        this.group = group;
    }

    /**
     * Opens the group, checks that it is viable (every device in it bound to vfio-pci or to no driver),
     * and joins it to {@code container}.
     *
     * @param group the number, as in {@code /sys/kernel/iommu_groups/N}
     */
    static VfioGroup open(Syscalls sys, PciBus bus, String group, VfioContainer container) {
        String path = "/dev/vfio/" + (container.noIommu() ? "noiommu-" : "") + group;
        int fd;
        try {
            fd = sys.open(path, Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        } catch (LinuxException e) {
            if (e.errno() == Errno.EBUSY) {
                // vfio_group_fops_open(): one opener at a time, and none while a device of it is open by cdev.
                throw e.withRemedy("the group is already open (a session of this process or another process holds "
                        + "it, through " + path + " or a device's cdev /dev/vfio/devices/vfioN): VFIO gives a group "
                        + "to one opener at a time");
            }
            throw e.withRemedy("bind the device to vfio-pci (dmadirect bind, or driver_override + drivers_probe), "
                    + "and give this user access to " + path + " (dmadirect's udev rules)");
        }
        VfioGroup g = new VfioGroup(sys, fd, group);
        try {
            ByteBuffer status = VfioStructs.withArgsz(VfioUapi.SIZEOF_GROUP_STATUS);
            sys.ioctl(fd, VfioUapi.VFIO_GROUP_GET_STATUS, status);
            if ((status.getInt(4) & VfioUapi.VFIO_GROUP_FLAGS_VIABLE) == 0) {
                throw LinuxException.setup("use VFIO group " + group, "the group is not viable: its devices are "
                        + IommuGroupDevices.describe(bus, group),
                        "bind every device of the group to vfio-pci or unbind it from its driver; devices of one "
                                + "group share the IOMMU and can only be given to userspace together");
            }
            ByteBuffer containerFd = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.nativeOrder());
            containerFd.putInt(0, container.fd());
            sys.ioctl(fd, VfioUapi.VFIO_GROUP_SET_CONTAINER, containerFd);
            container.groupAdded();
            return g;
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** {@code VFIO_GROUP_GET_DEVICE_FD} by the device's name, its PCI address. */
    int deviceFd(PciAddress address) {
        try {
            return sys.ioctl(fd, VfioUapi.VFIO_GROUP_GET_DEVICE_FD, VfioStructs.cString(address.toString()));
        } catch (LinuxException e) {
            throw e.withRemedy("check that " + address + " is in IOMMU group " + group + " and bound to vfio-pci");
        }
    }

    String number() {
        return group;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            sys.close(fd);
        }
    }
}
