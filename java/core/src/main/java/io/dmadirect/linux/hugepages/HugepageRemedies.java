package io.dmadirect.linux.hugepages;

import io.dmadirect.Sizes;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Remedies;
import io.dmadirect.linux.Rlimit;

/**
 * What to tell the user to do about hugepages, memlock and pagemap, beside the general {@link Remedies}, so
 * every path to the same problem gives the same advice.
 */
public final class HugepageRemedies {
    static final String CLI_RESERVE = "dmadirect hugepages --reserve ";

    private HugepageRemedies() {
    }

    /** RLIMIT_MEMLOCK is below what must be locked. */
    public static LinuxException memlockTooLow(Rlimit limit, long bytes) {
        String problem = describe(limit) + " but " + Sizes.format(bytes) + " must be locked";
        return LinuxException.setup("lock " + Sizes.format(bytes) + " of DMA memory", problem, Remedies.memlockRaise());
    }

    /** RLIMIT_MEMLOCK is below what an IOMMU mapping will pin (IOVA mode). */
    public static LinuxException iommuPinTooLow(Rlimit limit, long bytes) {
        String problem = describe(limit) + " but " + Sizes.format(bytes) + " must be pinned: the IOMMU driver "
                + "(VFIO type1, iommufd) pins the DMA memory it maps and counts it against this limit";
        return LinuxException.setup("pin " + Sizes.format(bytes) + " of DMA memory for the IOMMU", problem,
                Remedies.memlockRaise());
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
    public static LinuxException pageSizeUnavailable(HugepageSize size, String sysfsDir) {
        String problem = size + " hugepages are not available on this host (" + sysfsDir + " is missing)";
        String remedy = size == HugepageSize.SIZE_1G
                ? "1 GiB pages need a CPU with pdpe1gb and a kernel with hugetlb; use 2 MiB pages "
                        + "(the default) or boot with hugepagesz=1G hugepages=N"
                : "the kernel lacks hugetlb support (CONFIG_HUGETLBFS); use a kernel built with it";
        return LinuxException.setup("use " + size + " hugepages", problem, remedy);
    }

    /** pagemap hid the PFNs: the process lacks CAP_SYS_ADMIN. */
    public static String notRoot() {
        return "run as root (pagemap shows physical frame numbers only to CAP_SYS_ADMIN since Linux 4.2), "
                + "or open the device through VFIO with an IOMMU (IOVA mode), which needs no physical addresses";
    }

    private static String describe(Rlimit limit) {
        return "RLIMIT_MEMLOCK is " + Sizes.format(limit.soft())
                + " (hard limit " + (limit.hard() == -1L ? "unlimited" : Sizes.format(limit.hard())) + ")";
    }
}
