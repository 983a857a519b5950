package io.dmadirect.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Allocation and mapping failures come from separate sequences of one seed: with one sequence, allocation n
 * and mapping n failed together, so "allocated, then the mapping failed" never happened alone (issue 19).
 */
class InjectorStreamsTest {
    @Test
    void allocationAndMappingFailuresAreIndependent() {
        for (long seed : new long[] {1, 7, 42}) {
            int alloc = 0;
            int map = 0;
            int both = 0;
            int n = 4000;
            for (long i = 1; i <= n; i++) {
                boolean a = Injector.unit(seed ^ Injector.ALLOC_STREAM, i) < 0.5;
                boolean m = Injector.unit(seed ^ Injector.MAP_STREAM, i) < 0.5;
                alloc += a ? 1 : 0;
                map += m ? 1 : 0;
                both += a && m ? 1 : 0;
            }
            // Independent: about a quarter fail together (the same sequence would give a half, every alloc failure).
            assertTrue(both > n / 4 - 200 && both < n / 4 + 200, "seed " + seed + ": " + both + " of " + n
                    + " calls failed both (alloc " + alloc + ", map " + map + ")");
            assertTrue(both < alloc && both < map, "seed " + seed + ": a mapping failure happens alone");
        }
    }
}
