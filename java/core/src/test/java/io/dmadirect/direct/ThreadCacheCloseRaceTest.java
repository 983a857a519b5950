package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The fast path of small coherent allocations (the owned gate stripe, the page allocator's per-thread cache, the
 * int attributes) racing close (issue 18). Threads allocate and free small buffers as fast as they can, keeping a
 * few live, on two devices of different masks sharing each thread's cache, while the main thread closes one
 * device, or the whole platform. Only a refusal naming what closed ({@link DmaUsageException}) or exhaustion
 * ({@link DmaAllocationException}) may come out; no buffer stays allocated; once the threads have ended and the
 * caches are drained, a device close leaves the memory as it found it.
 */
class ThreadCacheCloseRaceTest {
    private static final int ROUNDS = 12;
    private static final int THREADS = 3;
    private static final int SKIP = DmaAttr.flags(DmaAttr.SKIP_ZEROING);

    @Test
    void closingTheDeviceOrPlatformUnderTheFastPathLeaksNothing() throws Exception {
        AtomicLong operations = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            boolean closePlatform = round % 3 == 2;
            SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 4 * MiB).region(GiB, 8 * MiB)
                    .region(4 * GiB, 8 * MiB).atomicPools(0, 0).build();
            try {
                MemoryStats before = platform.memoryStats();
                DmaDevice wide = platform.attach(DeviceProperties.simple("wide-" + round));
                wide.setMaskAndCoherent(DmaMask.BITS_64);
                DmaDevice narrow = platform.attach(DeviceProperties.simple("narrow-" + round));
                narrow.setMaskAndCoherent(DmaMask.BITS_32);
                Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                Queue<DmaBuffer> made = new ConcurrentLinkedQueue<>();
                CountDownLatch started = new CountDownLatch(THREADS);
                AtomicBoolean closed = new AtomicBoolean();
                Thread[] workers = new Thread[THREADS];
                for (int t = 0; t < THREADS; t++) {
                    long seed = round * 31L + t;
                    workers[t] = new Thread(() -> work(wide, narrow, seed, made, unexpected, operations, started,
                            closed));
                    workers[t].start();
                }
                started.await();
                Thread.sleep(round % 4);
                if (closePlatform) {
                    platform.close();
                } else {
                    wide.close();
                }
                Thread.sleep(1); // the workers go on against what is closed (refused) and what is not, then stop
                closed.set(true);
                for (Thread worker : workers) {
                    worker.join(30_000);
                    assertTrue(!worker.isAlive(), "a worker hung after close");
                }
                assertTrue(unexpected.isEmpty(), "undocumented exceptions: " + List.copyOf(unexpected));
                for (DmaBuffer buffer : made) {
                    if (buffer.device() == wide || closePlatform) {
                        assertTrue(buffer.isFreed(), "left allocated after its close: " + buffer);
                    }
                }
                if (!closePlatform) {
                    narrow.close();
                    platform.drainThreadCaches(); // the workers have ended: their caches are drained here
                    assertEquals(before, platform.memoryStats(), "round " + round);
                    assertEquals(0, platform.leakedBytes(), "round " + round);
                }
            } finally {
                platform.close();
            }
        }
        assertTrue(operations.get() > ROUNDS, "the threads did work before the close: " + operations.get());
    }

    private static void work(DmaDevice wide, DmaDevice narrow, long seed, Queue<DmaBuffer> made,
            Queue<Throwable> unexpected, AtomicLong operations, CountDownLatch started, AtomicBoolean closed) {
        SplittableRandom random = new SplittableRandom(seed);
        ArrayDeque<DmaBuffer> live = new ArrayDeque<>();
        started.countDown();
        while (!closed.get()) {
            try {
                DmaDevice device = random.nextInt(4) == 0 ? narrow : wide;
                long size = 1L << (6 + random.nextInt(11)); // 64 B to 64 KiB: every cached order
                DmaBuffer buffer = random.nextBoolean() ? device.allocCoherent(size, SKIP) : device.allocCoherent(size);
                made.add(buffer);
                live.add(buffer);
                if (live.size() > 4 || random.nextBoolean()) {
                    DmaBuffer old = random.nextBoolean() ? live.pollFirst() : live.pollLast();
                    old.close(); // a quiet no-op once its device closed
                }
                operations.incrementAndGet();
            } catch (DmaUsageException e) {
                if (!e.getMessage().contains("closed")) {
                    unexpected.add(e);
                    return;
                }
            } catch (DmaAllocationException e) {
                // exhaustion is documented; keep going
            } catch (Throwable e) {
                unexpected.add(e);
                return;
            }
        }
        try {
            live.forEach(DmaBuffer::close); // what is still open is freed; a closed device's buffers were freed by it
        } catch (Throwable e) {
            unexpected.add(e);
        }
    }
}
