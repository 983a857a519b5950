package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Remedies;

import io.dmadirect.linux.headers.Capability;

/**
 * The one check every PA-mode path makes before it touches a hugepage or a device: physical addresses
 * come from /proc/self/pagemap, which shows frame numbers only to CAP_SYS_ADMIN (since Linux 4.2;
 * without it every present page reads as PFN 0). Checking first gives the remedy instead of a half-set-up
 * platform that then fails on the first translation.
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/pagemap.html">pagemap</a>
 */
public final class PagemapAccess {
    private PagemapAccess() {
    }

    /**
     * Throws, naming {@code what} and the remedy, unless {@code caps} hold CAP_SYS_ADMIN.
     *
     * @param what the operation as the message should name it, e.g. "open 0000:00:04.0 in PA mode"
     */
    public static void require(ProcessCapabilities caps, String what) {
        if (!caps.has(Capability.CAP_SYS_ADMIN)) {
            throw LinuxException.setup(what, "this process lacks CAP_SYS_ADMIN, so /proc/self/pagemap shows PFN 0 "
                    + "instead of physical addresses", HugepageRemedies.notRoot());
        }
    }
}
