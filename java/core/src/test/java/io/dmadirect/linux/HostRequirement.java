package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dmadirect.linux.headers.Capability;

/**
 * Host tests skip with a reason when this host cannot run them, except under
 * {@code DMADIRECT_REQUIRE_HOST=1} (set by .ci/run), where the same reason fails the test: in CI nothing
 * may skip silently.
 */
public final class HostRequirement {
    public static final String ENV = "DMADIRECT_REQUIRE_HOST";

    private HostRequirement() {
    }

    /** Whether host tests must run; surefire passes an unset variable through as its literal placeholder. */
    public static boolean required() {
        String value = System.getenv(ENV);
        return "1".equals(value) || "true".equalsIgnoreCase(value);
    }

    /** Skips (or fails, when required) unless {@code condition} holds. */
    public static void require(boolean condition, String reason) {
        if (condition) {
            return;
        }
        if (required()) {
            fail("host test cannot run (" + ENV + "=1): " + reason);
        }
        assumeTrue(false, "host test skipped: " + reason);
    }

    /** Root-like: CAP_SYS_ADMIN for pagemap PFNs and for writing the hugepage pool size. */
    public static void requireRoot() {
        require(ProcessCapabilities.current().has(Capability.CAP_SYS_ADMIN),
                "needs root (CAP_SYS_ADMIN) to read physical addresses and reserve hugepages");
    }

    /** Linux with a 2 MiB hugepage pool and root. */
    public static void requireHugepages() {
        require(System.getProperty("os.name").startsWith("Linux"), "needs Linux");
        requireRoot();
        require(HugepageSysfs.DEFAULT.supported(HugepageSize.SIZE_2M), "the kernel has no 2 MiB hugepage pool");
    }
}
