package io.dmadirect.junit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What happens when a test's device cannot be had: a skip with the reason, unless the environment says
 * skipping is not allowed ({@code DMADIRECT_REQUIRE_RIG=1}, {@code DMADIRECT_REQUIRE_HOST=1}, as CI sets
 * them), and then a failure with the same reason. Never a silent pass.
 */
final class Requirements {
    static final String REQUIRE_RIG = "DMADIRECT_REQUIRE_RIG";
    static final String REQUIRE_HOST = "DMADIRECT_REQUIRE_HOST";

    private Requirements() {
    }

    static boolean inRig() {
        return "1".equals(System.getenv("DMADIRECT_RIG"));
    }

    /** Skips, or fails when {@code requireVariable} is 1. */
    static RuntimeException unavailable(String reason, String requireVariable) {
        if ("1".equals(System.getenv(requireVariable))) {
            Assertions.fail(reason + " (" + requireVariable + "=1 forbids skipping)");
        }
        Assumptions.abort(reason + " (set " + requireVariable + "=1 to make this a failure)");
        throw new AssertionError("unreachable");
    }

    /** Inside the rig a test's need is a fact of the boot: an unmet one fails, as the HIL suite's do. */
    static RuntimeException unmetInRig(String reason) {
        Assertions.fail("in the rig guest: " + reason + " (boot the rig with the device: dmadirect rig --device ...)");
        throw new AssertionError("unreachable");
    }
}
