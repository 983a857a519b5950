package io.dmadirect.linux.headers;

/**
 * {@code <linux/capability.h>}: the capability bits dmadirect cares about.
 *
 * @see <a href="https://man7.org/linux/man-pages/man7/capabilities.7.html">capabilities(7)</a>
 */
public final class Capability {
    /** Lifts RLIMIT_MEMLOCK for mlock. */
    public static final int CAP_IPC_LOCK = 14;
    /** VFIO opens a no-IOMMU group ({@code /dev/vfio/noiommu-N}) only to a process with it. */
    public static final int CAP_SYS_RAWIO = 17;
    /** Makes /proc/self/pagemap show real PFNs (otherwise they read as 0 since Linux 4.2). */
    public static final int CAP_SYS_ADMIN = 21;

    private Capability() {
    }
}
