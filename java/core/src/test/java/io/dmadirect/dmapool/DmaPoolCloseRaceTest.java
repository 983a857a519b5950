package io.dmadirect.dmapool;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Threads allocating, writing and freeing blocks (growing the pool as they go) while another destroys the pool,
 * or closes the device: every thread must end with a {@link DmaUsageException} that says what was closed, or
 * none; nothing else may escape, and once all is closed every page the pool took is back with the allocator.
 */
class DmaPoolCloseRaceTest {
    private static final int ROUNDS = 25;
    private static final int WORKERS = 4;

    @Test
    void allocAndFreeRacingPoolDestroyEndCleanlyAndLeakNoPage() throws Exception {
        rounds("the pool is closed (destroyed)", (device, pool, round) -> destroyWhenIdle(pool));
    }

    @Test
    void allocFreeAndDestroyRacingDeviceCloseEndCleanlyAndLeakNoPage() throws Exception {
        rounds("is closed", (device, pool, round) -> {
            Thread destroyer = new Thread(() -> destroyWhenIdle(pool));
            if (round % 2 == 0) {
                destroyer.start();
            }
            Thread.sleep(round % 3);
            device.close();
            if (round % 2 == 0) {
                destroyer.join(TimeUnit.SECONDS.toMillis(10));
                assertTrue(!destroyer.isAlive(), "destroy returns once the device is closed");
            }
        });
    }

    /** What a round does once the workers run; the workers must then end with a refusal. */
    @FunctionalInterface
    private interface Closer {
        void close(DmaDevice device, DmaPool pool, int round) throws Exception;
    }

    /**
     * {@link #ROUNDS} fresh machines, each with workers racing {@code closer}; every worker must end with a refusal
     * naming {@code closed}, and every page must be back with the allocator.
     */
    private static void rounds(String closed, Closer closer) throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            try (SimulatedPlatform platform = platform()) {
                DmaDevice device = device(platform);
                long before = platform.memoryStats().available();
                DmaPool pool = device.createPool("race", 64 << (round % 4), 0, 0);
                Race race = new Race(pool);
                race.start();
                race.ready.await();
                closer.close(device, pool, round);
                race.join();
                race.assertOnlyClosedErrors(closed);
                platform.drainThreadCaches();
                assertEquals(before, platform.memoryStats().available(), "round " + round + ": pages leaked");
            }
        }
    }

    /** Destroy is refused while a worker holds a block ("busy"); retries until it wins or the device closed. */
    private static void destroyWhenIdle(DmaPool pool) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                pool.close();
                return;
            } catch (DmaUsageException busy) {
                assertTrue(busy.getMessage().contains("busy"), busy.getMessage());
                assertTrue(System.nanoTime() < deadline, "destroy never found the pool idle");
                Thread.onSpinWait();
            }
        }
    }

    private static SimulatedPlatform platform() {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 16 * MiB).build();
    }

    private static DmaDevice device(SimulatedPlatform platform) {
        DmaDevice device = platform.attach(DeviceProperties.simple("racer"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        return device;
    }

    /** Workers that each hold up to 40 blocks, so that the pool keeps growing, until an operation is refused. */
    private static final class Race {
        final DmaPool pool;
        final CountDownLatch ready = new CountDownLatch(WORKERS);
        final List<Thread> threads = new ArrayList<>();
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();

        Race(DmaPool pool) {
            this.pool = pool;
            for (int w = 0; w < WORKERS; w++) {
                threads.add(new Thread(this::work, "pool-worker-" + w));
            }
        }

        void start() {
            threads.forEach(Thread::start);
        }

        void join() throws InterruptedException {
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(20));
                assertTrue(!t.isAlive(), t.getName() + " did not stop");
            }
        }

        private void work() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long[] held = new long[40];
            int n = 0;
            boolean counted = false;
            try {
                for (int i = 0; ; i++) {
                    if (n < held.length && (n == 0 || random.nextBoolean())) {
                        long dma = random.nextBoolean() ? pool.alloc(0) : pool.zalloc(DmaAttr.flags(DmaAttr.ATOMIC));
                        ByteBuffer page = pool.pageView(dma);
                        page.putInt(pool.pageOffset(dma), (int) dma);
                        held[n++] = dma;
                    } else {
                        int k = random.nextInt(n);
                        long dma = held[k];
                        held[k] = held[--n];
                        pool.free(dma);
                    }
                    if (!counted && i == 100) {
                        counted = true;
                        ready.countDown();
                    }
                    if (i % 200 == 199) {
                        // Let destroy see an idle pool now and then.
                        while (n > 0) {
                            pool.free(held[--n]);
                        }
                        Thread.yield();
                    }
                }
            } catch (Throwable t) {
                errors.add(t);
            } finally {
                if (!counted) {
                    ready.countDown();
                }
            }
        }

        void assertOnlyClosedErrors(String closed) {
            assertEquals(WORKERS, errors.size(), "every worker ended with one refusal: " + errors);
            for (Throwable t : errors) {
                if (!(t instanceof DmaUsageException) || !t.getMessage().contains(closed)) {
                    throw new AssertionError("a worker ended with something else than a clear refusal", t);
                }
            }
        }
    }
}
