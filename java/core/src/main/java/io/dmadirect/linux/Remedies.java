package io.dmadirect.linux;

import io.dmadirect.linux.headers.Errno;

/**
 * What to tell the user to do, in one place, so every path to the same problem gives the same advice.
 * These follow what users of DPDK and SPDK most often get stuck on: hugepages, memlock, permissions.
 */
public final class Remedies {
    private Remedies() {
    }

    /** The general remedy for {@code syscall} failing with {@code errno}, or null when none is known. */
    static String forErrno(String syscall, int errno) {
        if (syscall.equals("mlock") && (errno == Errno.ENOMEM || errno == Errno.EAGAIN || errno == Errno.EPERM)) {
            return memlockRaise();
        }
        if (errno == Errno.EPERM || errno == Errno.EACCES) {
            return "check permissions: run as root, or give this user access to the file "
                    + "(for /dev/vfio/* install dmadirect's udev rules)";
        }
        if (errno == Errno.EMFILE || errno == Errno.ENFILE) {
            return "raise the open-files limit with ulimit -n or LimitNOFILE= in the systemd unit";
        }
        if (syscall.equals("memfd_create") && (errno == Errno.EINVAL || errno == Errno.ENODEV)) {
            return "this kernel cannot back memfd with hugepages of that size (needs CONFIG_HUGETLBFS and "
                    + "Linux 4.14+); use a hugetlbfs mount instead";
        }
        return null;
    }

    public static String memlockRaise() {
        return "raise RLIMIT_MEMLOCK with `ulimit -l unlimited` in the shell that starts Java, "
                + "LimitMEMLOCK=infinity in the systemd unit, or a memlock line in /etc/security/limits.conf; "
                + "or grant the process CAP_IPC_LOCK";
    }



    /**
     * An IOMMU map ioctl failed with ENOMEM. Past RLIMIT_MEMLOCK is the usual cause when another session of
     * this process already pins memory, which the check before mapping does not see.
     */
    public static String iommuMapNoMemory() {
        return "VFIO pins mapped memory and counts it, with all else this process has pinned or locked, "
                + "against RLIMIT_MEMLOCK (iommufd counts what all of this user's processes have pinned; the kernel "
                + "log says \"RLIMIT_MEMLOCK exceeded\" when that is the cause); " + memlockRaise();
    }

    /**
     * Issue 21: EPERM from attaching a device to VFIO type1 or iommufd as root: the IOMMU cannot isolate the device's
     * MSIs (no interrupt remapping: virtio-iommu, or intel-iommu without {@code intremap}), and the kernel refuses
     * unless told that is acceptable.
     *
     * @param module {@code vfio_iommu_type1} or {@code iommufd}
     */
    public static String unisolatedMsi(String module) {
        return "if this runs as root, the IOMMU cannot isolate the device's MSIs (no interrupt remapping: "
                + "virtio-iommu, or intel-iommu without intremap; dmesg says \"No interrupt remapping support\"), and "
                + module + " refuses to attach unless loaded with allow_unsafe_interrupts=1 (kernel command line "
                + module + ".allow_unsafe_interrupts=1), which lets the device raise any interrupt; otherwise check "
                + "permissions on /dev/vfio (dmadirect's udev rules)";
    }
}
