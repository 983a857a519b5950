package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Threads allocate pages and non-contiguous memory, write, sync both ways and free, on a device that does not
 * snoop caches (so every sync does cache maintenance), while the main thread closes the device. Only a refusal
 * naming the closed device ({@link DmaUsageException}) or exhaustion ({@link DmaAllocationException}) may come
 * out; afterwards every buffer made is freed and the memory statistics are back to where they started.
 */
class NoncoherentCloseRaceTest {
    private static final int ROUNDS = 25;
    private static final int THREADS = 4;

    @Test
    void closingTheDeviceWhileThreadsUseItsPagesLeavesNothingAndThrowsOnlyDocumentedExceptions() throws Exception {
        AtomicLong operations = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
                MemoryStats before = platform.memoryStats();
                DmaDevice device = platform.attach(DeviceProperties.simple("race-" + round).withCoherent(false));
                Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                Queue<NoncoherentBuffer> made = new ConcurrentLinkedQueue<>();
                CountDownLatch started = new CountDownLatch(THREADS);
                Thread[] workers = new Thread[THREADS];
                for (int t = 0; t < THREADS; t++) {
                    long seed = round * 31L + t;
                    workers[t] = new Thread(() -> work(device, seed, made, unexpected, operations, started));
                    workers[t].start();
                }
                started.await();
                Thread.sleep(round % 5);
                device.close();
                for (Thread worker : workers) {
                    worker.join(30_000);
                    assertTrue(!worker.isAlive(), "a worker hung after close");
                }
                assertTrue(unexpected.isEmpty(), "undocumented exceptions: " + List.copyOf(unexpected));
                for (NoncoherentBuffer buffer : made) {
                    assertTrue(buffer.isFreed(), "left allocated after the device closed: " + buffer);
                }
                platform.drainThreadCaches();
                assertEquals(before, platform.memoryStats(), "round " + round);
            }
        }
        assertTrue(operations.get() > ROUNDS, "the threads did work before the close: " + operations.get());
    }

    private static void work(DmaDevice device, long seed, Queue<NoncoherentBuffer> made, Queue<Throwable> unexpected,
            AtomicLong operations, CountDownLatch started) {
        SplittableRandom random = new SplittableRandom(seed);
        started.countDown();
        while (true) {
            try {
                long size = 1 + random.nextInt(3 * (int) MiB);
                DmaDirection dir = DmaDirection.values()[random.nextInt(3)];
                NoncoherentBuffer buffer = random.nextBoolean()
                        ? device.allocPages(size, dir, DmaAttr.NO_WARN)
                        : device.allocNoncontiguous(size, dir, DmaAttr.NO_WARN);
                made.add(buffer);
                buffer.cpuView().put(0, (byte) 1);
                buffer.syncForDevice();
                buffer.syncForCpu(0, Math.min(size, 4096));
                if (random.nextInt(4) != 0) {
                    buffer.close();
                }
                operations.incrementAndGet();
            } catch (DmaUsageException e) {
                if (!e.getMessage().contains("closed")) {
                    unexpected.add(e);
                }
                return;
            } catch (DmaAllocationException e) {
                // Memory is exhausted by the buffers left allocated on purpose: documented, go on.
                operations.incrementAndGet();
            } catch (Throwable e) {
                unexpected.add(e);
                return;
            }
        }
    }
}
