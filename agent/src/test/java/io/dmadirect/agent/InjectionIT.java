package io.dmadirect.agent;

import org.junit.jupiter.api.Test;

/**
 * Mode inject on the simulated platform: the same driver code meets failures it would rarely see, and a
 * device narrowed to 28 bits still moves correct data because the policy allocates within the mask.
 * (The edu and NVMe drivers on the rig are the hardware versions of these.)
 */
class InjectionIT {

    @Test
    void everyThirdAllocationFailsAndTheDriverUnwindsCleanly() throws Exception {
        // Rounds of 4 allocations: calls 3, 6 (round 1: 5,6), 9 (round 2: 7,8,9), 12 fail -> every round fails.
        ChildJvm.run("mode=trace+debug+inject,failEvery=3,packages=com.example.driver,failOnError=true", "inject-alloc")
                .assertExit(0)
                .assertContains("inject-alloc: round 0 failed cleanly: failed to allocate 2048 bytes of coherent DMA memory"
                        + " for nic0: dmadirect-agent injected this failure (failEvery=3, allocation #3 at"
                        + " com.example.driver.PlantedBugs.injectAlloc(PlantedBugs.java:",
                        "inject-alloc: 4 rounds failed, all unwound", "debug: 0 errors: clean", "injected 4");
    }

    @Test
    void aSeededShareFailsTheSameCallsEachRun() throws Exception {
        // The first seed from 1 that fails some rounds but not all, predicted from the injector's hash.
        long seed = 0;
        int failures;
        do {
            seed++;
            failures = predictedFailedRounds(0.2, seed);
        } while (failures == 0 || failures == 4);
        ChildJvm.run("mode=inject,failRate=0.2,seed=" + seed, "inject-alloc")
                .assertExit(0)
                .assertContains("inject-alloc: " + failures + " rounds failed, all unwound");
    }

    /** Rounds of 4 allocations; a failed allocation ends its round. */
    private static int predictedFailedRounds(double rate, long seed) {
        int failures = 0;
        long n = 0;
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 4; i++) {
                if (Injector.unit(seed, ++n) < rate) {
                    failures++;
                    break;
                }
            }
        }
        return failures;
    }

    @Test
    void narrowedMaskStillMovesCorrectData() throws Exception {
        ChildJvm.run("mode=inject+debug,maskBits=28,failOnError=true", "narrow-mask")
                .assertExit(0)
                .assertContains("narrow-mask: mask ", "in DMA, data correct, faults []");
    }

    @Test
    void withoutTheNarrowedMaskTheTruncatingDeviceCorruptsData() throws Exception {
        // The control: the driver's 64-bit claim puts the buffer above 4 GiB, where 28 address lines cannot reach.
        ChildJvm.run(null, "narrow-mask").assertExit(0).assertContains("data CORRUPT");
    }
}
