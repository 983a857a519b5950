package io.dmadirect.linux;

import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.Errno;

/**
 * What to tell the user to do, in one place, so every path to the same problem gives the same advice.
 * These follow what users of DPDK and SPDK most often get stuck on: hugepages, memlock, permissions.
 */
public final class Remedies {
    static final String CLI_RESERVE = "dmadirect hugepages --reserve ";

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

    /** RLIMIT_MEMLOCK is below what must be locked. */
    static LinuxException memlockTooLow(Rlimit limit, long bytes) {
        String problem = describe(limit) + " but " + Sizes.format(bytes) + " must be locked";
        return LinuxException.setup("lock " + Sizes.format(bytes) + " of DMA memory", problem, memlockRaise());
    }

    /** RLIMIT_MEMLOCK is below what an IOMMU mapping will pin (IOVA mode). */
    static LinuxException iommuPinTooLow(Rlimit limit, long bytes) {
        String problem = describe(limit) + " but " + Sizes.format(bytes) + " must be pinned: the IOMMU driver "
                + "(VFIO type1, iommufd) pins the DMA memory it maps and counts it against this limit";
        return LinuxException.setup("pin " + Sizes.format(bytes) + " of DMA memory for the IOMMU", problem,
                memlockRaise());
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

    private static String describe(Rlimit limit) {
        return "RLIMIT_MEMLOCK is " + Sizes.format(limit.soft())
                + " (hard limit " + (limit.hard() == -1L ? "unlimited" : Sizes.format(limit.hard())) + ")";
    }

    /** The hugepage pool has fewer free pages than asked for. */
    public static String reserveHugepages(HugepageSize size, long neededPages, long freePages, long totalPages,
            String nrHugepagesPath) {
        long target = totalPages + Math.max(neededPages - freePages, 0);
        String state = "needs " + neededPages + (neededPages == 1 ? " hugepage" : " hugepages") + " of " + size + ", " + freePages + " free of "
                + totalPages + " reserved";
        return state + ": reserve more with `echo " + target + " > " + nrHugepagesPath + "` as root, or `"
                + CLI_RESERVE + target + (size == HugepageSize.SIZE_1G ? " --size 1G" : "") + "`"
                + (size == HugepageSize.SIZE_1G
                        ? " (1 GiB pages are most reliably reserved at boot with hugepagesz=1G hugepages=N)"
                        : "");
    }

    /** The page size has no pool at all on this kernel or CPU. */
    static LinuxException pageSizeUnavailable(HugepageSize size, String sysfsDir) {
        String problem = size + " hugepages are not available on this host (" + sysfsDir + " is missing)";
        String remedy = size == HugepageSize.SIZE_1G
                ? "1 GiB pages need a CPU with pdpe1gb and a kernel with hugetlb; use 2 MiB pages "
                        + "(the default) or boot with hugepagesz=1G hugepages=N"
                : "the kernel lacks hugetlb support (CONFIG_HUGETLBFS); use a kernel built with it";
        return LinuxException.setup("use " + size + " hugepages", problem, remedy);
    }

    /** pagemap hid the PFNs: the process lacks CAP_SYS_ADMIN. */
    static String notRoot() {
        return "run as root (pagemap shows physical frame numbers only to CAP_SYS_ADMIN since Linux 4.2), "
                + "or open the device through VFIO with an IOMMU (IOVA mode), which needs no physical addresses";
    }
}
