package io.dmadirect.linux.headers;

/**
 * {@code <linux/memfd.h>}: flags of memfd_create. The hugepage size is encoded as log2(size) shifted
 * by {@link #MFD_HUGE_SHIFT}, as for mmap's {@code MAP_HUGE_*}.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/memfd_create.2.html">memfd_create(2)</a>
 */
public final class MemfdFlags {
    public static final int MFD_CLOEXEC = 0x0001;
    public static final int MFD_ALLOW_SEALING = 0x0002;
    public static final int MFD_HUGETLB = 0x0004;
    public static final int MFD_HUGE_SHIFT = 26;
    public static final int MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT;
    public static final int MFD_HUGE_1GB = 30 << MFD_HUGE_SHIFT;

    private MemfdFlags() {
    }
}
