package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Remedies;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.linux.headers.Capability;
import io.dmadirect.linux.headers.Resource;

/**
 * Checks RLIMIT_MEMLOCK before locking or pinning, so the user gets the limit and how to raise it instead
 * of a bare ENOMEM from mlock or from the IOMMU's map ioctl. A process with CAP_IPC_LOCK is not held to
 * the limit, as in the kernel's {@code can_do_mlock()} and {@code do_mlock()}, and in VFIO type1, which
 * records {@code capable(CAP_IPC_LOCK)} at {@code VFIO_IOMMU_MAP_DMA} time.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/mlock.2.html">mlock(2)</a>
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/drivers/vfio/vfio_iommu_type1.c">vfio_pin_pages_remote(), vfio_lock_acct()</a>
 */
public final class MemlockLimit {
    private MemlockLimit() {
    }

    /** Throws when locking {@code bytes} in all would exceed the limit. */
    public static void require(Syscalls sys, ProcessCapabilities caps, long bytes) {
        Rlimit limit = limitUnlessLifted(sys, caps);
        if (limit != null && !limit.allows(bytes)) {
            throw HugepageRemedies.memlockTooLow(limit, bytes);
        }
    }

    /**
     * Throws when an IOMMU pinning {@code bytes} in all would exceed the limit: VFIO type1 adds every
     * page it pins to the process's {@code locked_vm} and fails the map with ENOMEM past RLIMIT_MEMLOCK.
     */
    static void requireForIommu(Syscalls sys, ProcessCapabilities caps, long bytes) {
        Rlimit limit = limitUnlessLifted(sys, caps);
        if (limit != null && !limit.allows(bytes)) {
            throw HugepageRemedies.iommuPinTooLow(limit, bytes);
        }
    }

    /** The limit that applies, or null when CAP_IPC_LOCK lifts it. */
    private static Rlimit limitUnlessLifted(Syscalls sys, ProcessCapabilities caps) {
        return caps.has(Capability.CAP_IPC_LOCK) ? null : sys.getrlimit(Resource.RLIMIT_MEMLOCK);
    }
}
