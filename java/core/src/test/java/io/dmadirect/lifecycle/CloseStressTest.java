package io.dmadirect.lifecycle;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Threads loop alloc, free, CPU view, map (direct and bounced), sync, unmap and scatter lists on two
 * devices, one of them non-coherent, while another thread closes the devices and the platform. Only the
 * documented exceptions may come out (a refusal naming the closed device or platform, or exhaustion as
 * {@link DmaException}); after the devices closed the memory statistics and the bounce pool are back to
 * their start; after the platform closed every object made is freed or unmapped.
 */
class CloseStressTest {
    private static final int ROUNDS = 60;
    private static final int THREADS = 4;

    @Test
    void closingDevicesWhileTheyWorkLeavesNothingAndThrowsOnlyDocumentedExceptions() throws Exception {
        AtomicLong operations = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(64 * MiB, 64 * MiB)
                    .build();
            platform.drainThreadCaches();
            MemoryStats start = platform.memoryStats();
            Round r = new Round(platform, round);
            r.start();
            Thread.sleep(1 + round % 5);
            for (DmaDevice device : r.devices) {
                device.close();
            }
            r.join();
            assertTrue(r.problems.isEmpty(), () -> "round " + r.seed + ": " + r.problems.size() + " problems, first: "
                    + r.problems.peek());
            platform.drainThreadCaches();
            assertEquals(start, platform.memoryStats(), "round " + round + ": devices' close left memory");
            assertEquals(0, platform.direct().swiotlb().usedSlots(), "round " + round + ": bounce slots left");
            r.assertEverythingReleased();
            platform.close();
            operations.addAndGet(r.operations.get());
        }
        System.out.println("close stress (devices closed): " + operations.get() + " operations in " + ROUNDS + " rounds");
    }

    @Test
    void closingThePlatformWhileDevicesWorkReleasesEverything() throws Exception {
        AtomicLong operations = new AtomicLong();
        for (int round = 0; round < ROUNDS; round++) {
            SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(64 * MiB, 64 * MiB)
                    .build();
            Round r = new Round(platform, 1000 + round);
            r.start();
            Thread.sleep(1 + round % 5);
            Thread second = new Thread(platform::close); // two closers at once
            second.start();
            platform.close();
            second.join();
            r.join();
            assertTrue(r.problems.isEmpty(), () -> "round " + r.seed + ": " + r.problems.size() + " problems, first: "
                    + r.problems.peek());
            r.assertEverythingReleased();
            operations.addAndGet(r.operations.get());
        }
        System.out.println("close stress (platform closed): " + operations.get() + " operations in " + ROUNDS + " rounds");
    }

    /** One round's devices and worker threads, and everything the workers made. */
    private static final class Round {
        final List<DmaDevice> devices = new ArrayList<>();
        final Queue<String> problems = new ConcurrentLinkedQueue<>();
        final Queue<DmaBuffer> buffers = new ConcurrentLinkedQueue<>();
        final Queue<DmaMapping> mappings = new ConcurrentLinkedQueue<>();
        final Queue<ScatterList> lists = new ConcurrentLinkedQueue<>();
        final AtomicLong operations = new AtomicLong();
        final List<Thread> threads = new ArrayList<>();
        final int seed;

        Round(SimulatedPlatform platform, int seed) {
            this.seed = seed;
            DmaDevice coherent = platform.attach(DeviceProperties.simple("coherent-" + seed));
            coherent.setMaskAndCoherent(DmaMask.BITS_64);
            DmaDevice noncoherent = platform.attach(DeviceProperties.simple("noncoherent-" + seed).withCoherent(false));
            noncoherent.setMaskAndCoherent(DmaMask.bits(32));
            devices.add(coherent);
            devices.add(noncoherent);
            for (int t = 0; t < THREADS; t++) {
                DmaDevice device = devices.get(t % 2);
                SplittableRandom random = new SplittableRandom(seed * 31L + t);
                threads.add(new Thread(() -> work(device, random), "close-stress-" + seed + "-" + t));
            }
        }

        void start() {
            threads.forEach(Thread::start);
        }

        void join() throws InterruptedException {
            for (Thread thread : threads) {
                thread.join(30_000);
                if (thread.isAlive()) {
                    problems.add(thread.getName() + " still runs 30 s after close");
                }
            }
        }

        private void work(DmaDevice device, SplittableRandom random) {
            List<DmaBuffer> live = new ArrayList<>();
            List<DmaMapping> mapped = new ArrayList<>();
            try {
                while (true) {
                    step(device, random, live, mapped);
                    operations.incrementAndGet();
                }
            } catch (DmaUsageException e) {
                if (!e.getMessage().contains("is closed")) {
                    problems.add("usage error not caused by close: " + e);
                }
            } catch (Throwable e) {
                problems.add("undocumented " + e);
            }
        }

        private void step(DmaDevice device, SplittableRandom random, List<DmaBuffer> live, List<DmaMapping> mapped) {
            int op = random.nextInt(8);
            try {
                if (op == 0 || live.isEmpty()) {
                    DmaBuffer buffer = device.allocCoherent(1 + random.nextInt(64 * 1024));
                    buffers.add(buffer);
                    live.add(buffer);
                } else if (op == 1) {
                    live.remove(random.nextInt(live.size())).close();
                } else if (op == 2) {
                    ByteBuffer view = live.get(random.nextInt(live.size())).cpuView();
                    view.put(0, (byte) 7);
                    if (view.get(0) != 7) {
                        problems.add("a CPU view lost a write");
                    }
                } else if (op == 3) {
                    ByteBuffer view = live.get(random.nextInt(live.size())).cpuView();
                    DmaMapping m = device.map(view, DmaDirection.BIDIRECTIONAL); // direct
                    mappings.add(m);
                    mapped.add(m);
                } else if (op == 4) {
                    byte[] heap = new byte[1 + random.nextInt(8192)];
                    DmaMapping m = device.map(heap, 0, heap.length, DmaDirection.BIDIRECTIONAL); // bounced
                    mappings.add(m);
                    mapped.add(m);
                } else if (op == 5 && !mapped.isEmpty()) {
                    DmaMapping m = mapped.get(random.nextInt(mapped.size()));
                    device.syncForDevice(m, DmaDirection.BIDIRECTIONAL);
                    device.syncForCpu(m, DmaDirection.BIDIRECTIONAL);
                } else if (op == 6 && !mapped.isEmpty()) {
                    device.unmap(mapped.remove(random.nextInt(mapped.size())));
                } else if (op == 7) {
                    ScatterList list = device.mapSg(List.of(ByteBuffer.allocate(512), ByteBuffer.allocate(3000)),
                            DmaDirection.TO_DEVICE);
                    lists.add(list);
                    if (random.nextBoolean()) {
                        list.close();
                    }
                }
            } catch (DmaUsageException e) {
                throw e;
            } catch (DmaException exhausted) {
                // memory or bounce slots ran out: documented, and the thread goes on
            }
        }

        void assertEverythingReleased() {
            for (DmaBuffer b : buffers) {
                assertTrue(b.isFreed(), () -> "round " + seed + ": " + b + " escaped close");
            }
            for (DmaMapping m : mappings) {
                assertTrue(m.isUnmapped(), () -> "round " + seed + ": " + m + " escaped close");
            }
            for (ScatterList l : lists) {
                assertTrue(l.isUnmapped(), () -> "round " + seed + ": " + l + " escaped close");
            }
        }
    }
}
