package io.dmadirect.linux;

import io.dmadirect.linux.headers.Capability;
import io.dmadirect.linux.headers.Resource;

/**
 * Checks RLIMIT_MEMLOCK before locking, so the user gets the limit and how to raise it instead of a bare
 * ENOMEM from mlock. A process with CAP_IPC_LOCK is not held to the limit, as in the kernel's
 * {@code can_do_mlock()} and {@code do_mlock()}.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/mlock.2.html">mlock(2)</a>
 */
final class MemlockLimit {
    private MemlockLimit() {
    }

    /** Throws when locking {@code bytes} more would exceed the limit. */
    static void require(Syscalls sys, ProcessCapabilities caps, long bytes) {
        if (caps.has(Capability.CAP_IPC_LOCK)) {
            return;
        }
        Rlimit limit = sys.getrlimit(Resource.RLIMIT_MEMLOCK);
        if (!limit.allows(bytes)) {
            throw Remedies.memlockTooLow(limit, bytes);
        }
    }
}
