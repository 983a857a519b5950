package io.dmadirect.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaDevice;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random operation sequences on random simulated machines, one thread, checked against
 * {@link OperationSequence}'s model. After everything is freed the platform's statistics are back to where
 * they started, no bounce slot is held and nothing was leaked. Runs for {@code dmadirect.fuzz.seconds}
 * (20 s by default); a failure prints the seed that replays it.
 */
class SimulatedSequenceFuzzTest {
    /**
     * The library logs each small or high bounce pool; thousands of random machines would drown the build's
     * output. Leaks are asserted, not read from the log.
     */
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.dmadirect");

    static {
        QUIET.setLevel(java.util.logging.Level.SEVERE);
    }

    @Test
    void randomOperationsOnRandomMachinesKeepEveryInvariant() {
        long operations = FuzzRun.run("simulated sequences", 20, 300, 1, SimulatedSequenceFuzzTest::oneMachine);
        assertTrue(operations > 0, "the fuzz ran no operation");
    }

    static long oneMachine(long seed, int maxOps) {
        SplittableRandom random = new SplittableRandom(seed);
        RandomMachine machine = new RandomMachine(random);
        try (SimulatedPlatform platform = machine.build()) {
            platform.drainThreadCaches();
            MemoryStats start = platform.memoryStats();
            List<OperationSequence.Dev> devices = new ArrayList<>();
            int count = 1 + random.nextInt(3);
            for (int i = 0; i < count; i++) {
                DmaDevice device = platform.attach(machine.device("dev" + i));
                devices.add(SimulatedDevices.modelled(platform, device, machine.encryptionMask));
            }
            OperationSequence sequence = new OperationSequence(random, devices, () -> false);
            try {
                for (int i = 0; i < maxOps; i++) {
                    sequence.step();
                }
                sequence.teardown();
                sequence.assertNothingLive();
            } catch (AssertionError failure) {
                throw new AssertionError(machine + ": " + failure.getMessage(), failure);
            }
            platform.drainThreadCaches();
            Swiotlb tlb = platform.direct().swiotlb();
            assertEquals(0, tlb == null ? 0 : tlb.usedSlots(), machine + ": bounce slots held after everything was unmapped");
            assertEquals(0, platform.leakedBytes(), machine + ": bytes leaked");
            assertStatsBack(machine, start, platform.memoryStats(), sequence);
            for (OperationSequence.Dev dev : devices) {
                dev.device.close();
            }
            return sequence.operations();
        }
    }

    /**
     * The statistics after everything is freed: exactly the start's, unless the atomic pools or the bounce
     * pool may grow (they keep what they grew by), when each zone holds the same memory and at most that
     * growth less of it is free.
     */
    private static void assertStatsBack(RandomMachine machine, MemoryStats start, MemoryStats end, OperationSequence sequence) {
        java.util.function.Supplier<String> why = () -> machine + ": statistics back to the start after everything is freed;"
                + " recent operations:\n  " + sequence.recentLog();
        long growth = 3 * (machine.atomicPoolMaxBytes - machine.atomicPoolBytes) + machine.dynamicBounceBytes;
        if (growth == 0) {
            assertEquals(start, end, why);
            return;
        }
        for (io.dmadirect.ZoneStats zone : start.zones()) {
            io.dmadirect.ZoneStats now = end.zone(zone.zone());
            assertEquals(zone.total(), now.total(), why);
            assertTrue(now.free() <= zone.free() && now.free() >= zone.free() - growth, why);
        }
    }
}
