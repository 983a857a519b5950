package io.dmadirect.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.MemoryStats;
import io.dmadirect.ZoneStats;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Threads run random operations on shared devices while another closes a device or the whole platform,
 * as a multi-threaded driver's shutdown does (issue 15). Every operation must complete or throw a
 * documented exception, before, during and after the close; each thread then frees what it holds (use
 * after close must be refused, never crash). When only a device was closed, the platform's statistics must
 * be back to the start: nothing created during the close escaped it. Runs for
 * {@code dmadirect.fuzz.seconds} (15 s by default).
 */
class CloseRaceFuzzTest {
    private static final int THREADS = 3;
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("io.dmadirect");

    static {
        QUIET.setLevel(java.util.logging.Level.SEVERE);
    }

    /** Races in which some thread was still running operations when the close began: the ones that test anything. */
    private static final AtomicLong CONTENDED = new AtomicLong();
    private static final AtomicLong RACES = new AtomicLong();

    @Test
    void closeRacingEveryOperationLeavesOnlyDocumentedOutcomes() {
        long operations = FuzzRun.run("close races (simulated)", 15, 600, THREADS + 1, CloseRaceFuzzTest::oneRace);
        System.out.printf("fuzz close races (simulated): the close overtook running threads in %d of %d races%n",
                CONTENDED.get(), RACES.get());
        assertTrue(operations > 0, "the fuzz ran no operation");
        assertTrue(CONTENDED.get() * 2 >= RACES.get(), "the close came after the threads had finished in most races");
    }

    static long oneRace(long seed, int maxOps) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        RandomMachine machine = new RandomMachine(random);
        SimulatedPlatform platform = machine.build();
        AtomicBoolean closing = new AtomicBoolean();
        boolean closePlatform = random.nextInt(5) < 2;
        try {
            List<OperationSequence.Dev> devices = new ArrayList<>();
            int count = 1 + random.nextInt(2);
            for (int i = 0; i < count; i++) {
                DmaDevice device = platform.attach(machine.device("dev" + i));
                trySetMask(device, random);
                devices.add(SimulatedDevices.modelled(platform, device, machine.encryptionMask));
            }
            platform.drainThreadCaches();
            MemoryStats start = platform.memoryStats();
            LiveRanges live = new LiveRanges(closing::get);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong operations = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<OperationSequence> sequences = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                OperationSequence sequence = new OperationSequence(random.split(), devices, closing::get, live, true);
                sequences.add(sequence);
                Thread thread = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < maxOps / THREADS; i++) {
                            stepDocumented(sequence, closing);
                        }
                        sequence.teardown();
                    } catch (Throwable failure) {
                        failures.add(failure);
                    } finally {
                        operations.addAndGet(sequence.operations());
                    }
                }, "fuzz-race-" + t);
                threads.add(thread);
                thread.start();
            }
            OperationSequence.Dev victim = devices.get(random.nextInt(devices.size()));
            long delayMicros = random.nextLong(3000);
            go.countDown();
            TimeUnit.MICROSECONDS.sleep(delayMicros);
            closing.set(true);
            RACES.incrementAndGet();
            if (threads.stream().anyMatch(Thread::isAlive)) {
                CONTENDED.incrementAndGet();
            }
            try {
                if (closePlatform) {
                    platform.close();
                } else {
                    victim.device.close();
                }
            } catch (Throwable failure) {
                failures.add(new AssertionError("close threw " + failure, failure));
            }
            for (Thread thread : threads) {
                thread.join(60_000);
                assertTrue(!thread.isAlive(), thread.getName() + " hangs after the close");
            }
            if (!failures.isEmpty()) {
                Throwable first = failures.peek();
                StringBuilder logs = new StringBuilder();
                for (int t = 0; t < sequences.size(); t++) {
                    logs.append("\nrecent operations of fuzz-race-").append(t).append(":\n  ").append(sequences.get(t).recentLog());
                }
                throw new AssertionError(machine + (closePlatform ? ", platform" : ", device " + victim.device.name())
                        + " closed after " + delayMicros + " µs: " + failures.size() + " thread(s) failed, first: " + first + logs, first);
            }
            if (!closePlatform) {
                for (OperationSequence.Dev dev : devices) {
                    dev.device.close();
                }
                platform.drainThreadCaches();
                Swiotlb tlb = platform.direct().swiotlb();
                assertEquals(0, tlb == null ? 0 : tlb.usedSlots(), machine + ": bounce slots held after the device closed");
                assertStatsBack(machine, start, platform.memoryStats());
            }
            return operations.get() + 1;
        } finally {
            platform.close();
        }
    }

    /**
     * One step; a documented exception the model did not expect at that point is accepted once the close
     * has begun (the model wraps the operations that may fail, not every getter a close can overtake).
     */
    private static void stepDocumented(OperationSequence sequence, AtomicBoolean closing) {
        try {
            sequence.step();
        } catch (io.dmadirect.DmaException refused) {
            if (!closing.get()) {
                throw new AssertionError("a " + refused + " before any close; recent operations:\n  " + sequence.recentLog(),
                        refused);
            }
        }
    }

    private static void trySetMask(DmaDevice device, SplittableRandom random) {
        int bits = random.nextBoolean() ? 64 : 20 + random.nextInt(45);
        try {
            device.setMaskAndCoherent(DmaMask.bits(bits));
        } catch (io.dmadirect.DmaMaskUnsupportedException refused) {
            // The device keeps its 32-bit default; the race runs with that.
        }
    }

    /** Nothing created during the close escaped it; only the pools' own growth is kept. */
    private static void assertStatsBack(RandomMachine machine, MemoryStats start, MemoryStats end) {
        long growth = 3 * (machine.atomicPoolMaxBytes - machine.atomicPoolBytes) + machine.dynamicBounceBytes;
        for (ZoneStats zone : start.zones()) {
            ZoneStats now = end.zone(zone.zone());
            assertEquals(zone.total(), now.total(), machine + ": zone total changed");
            assertTrue(now.free() <= zone.free() && now.free() >= zone.free() - growth, () -> machine
                    + ": memory escaped the device's close: " + zone + " at the start, " + now + " after");
        }
    }
}
