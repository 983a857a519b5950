package io.dmadirect.linux.hugepages;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The ballast's cap counts only pages it takes newly from the page allocator: the rig guest of issue 14
 * (6 GiB, 600 hugepages free in the pool, all above 4 GiB) got 0 B below 4 GiB when the pool's pages used
 * up a cap of ZONE_NORMAL free + 512 MiB.
 */
class BallastStepTest {
    private static final long PAGE = 2 * MiB;
    private static final long STEP = GiB / PAGE;

    @Test
    void thePoolsFreePagesAreTakenFirstAndNotCountedAgainstTheCap() {
        long cap = (2 * GiB + 512 * MiB) / PAGE;
        BallastStep first = BallastStep.next(cap, 0, 600, STEP, 3 * GiB, GiB, PAGE);
        assertEquals(600 + STEP, first.pages(), first.stop());
        // After the pool's 600 and a step of new ones, the cap still has room for the rest.
        BallastStep second = BallastStep.next(cap, STEP, 0, STEP, 3 * GiB, GiB, PAGE);
        assertEquals(STEP, second.pages(), second.stop());
    }

    @Test
    void theCapStopsNewPagesOnly() {
        long cap = 100;
        BallastStep atCap = BallastStep.next(cap, 100, 0, STEP, 8 * GiB, GiB, PAGE);
        assertEquals(0, atCap.pages());
        assertTrue(atCap.stop().contains("ballast limit of 200 MiB"), atCap.stop());
        assertEquals(40, BallastStep.next(cap, 60, 0, STEP, 8 * GiB, GiB, PAGE).pages());
    }

    @Test
    void theHostFloorLimitsNewPagesButNotThePools() {
        // 1 GiB + 10 pages available: 10 new pages fit above the floor, and the pool's 50 cost the host nothing.
        BallastStep near = BallastStep.next(1000, 0, 50, STEP, GiB + 10 * PAGE, GiB, PAGE);
        assertEquals(60, near.pages(), near.stop());
        BallastStep atFloor = BallastStep.next(1000, 10, 0, STEP, GiB, GiB, PAGE);
        assertEquals(0, atFloor.pages());
        assertTrue(atFloor.stop().contains("available to the host"), atFloor.stop());
    }
}
