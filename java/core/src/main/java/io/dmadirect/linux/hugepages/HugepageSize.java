package io.dmadirect.linux.hugepages;

import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.MemfdFlags;

/**
 * The hugepage sizes dmadirect backs memory with on x86_64. Each names its sysfs pool directory and
 * its memfd_create flag.
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/hugetlbpage.html">HugeTLB Pages</a>
 */
public enum HugepageSize {
    SIZE_2M(2 * Sizes.MiB, MemfdFlags.MFD_HUGE_2MB),
    SIZE_1G(Sizes.GiB, MemfdFlags.MFD_HUGE_1GB);

    private final long bytes;
    private final int memfdFlag;

    HugepageSize(long bytes, int memfdFlag) {
        this.bytes = bytes;
        this.memfdFlag = memfdFlag;
    }

    public long bytes() {
        return bytes;
    }

    /** {@code MFD_HUGE_2MB} or {@code MFD_HUGE_1GB}. */
    public int memfdFlag() {
        return memfdFlag;
    }

    /** The pool's directory name under /sys/kernel/mm/hugepages, e.g. {@code hugepages-2048kB}. */
    public String sysfsName() {
        return "hugepages-" + (bytes / Sizes.KiB) + "kB";
    }

    @Override
    public String toString() {
        return Sizes.format(bytes);
    }
}
