package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Eight threads allocate and free a million buffers of mixed sizes on two devices with different
 * masks. A shared page bitmap, set and cleared with compare-and-set by DMA address, proves that no live
 * DMA range is ever handed out twice; a tag written into each buffer proves no other thread's memory
 * overlapped it; and the free memory comes back to its starting value.
 */
class ConcurrencyStressTest {
    private static final int THREADS = 8;
    private static final int PAIRS_PER_THREAD = 128 * 1024;
    private static final int LIVE_PER_THREAD = 32;
    private static final long MEMORY = 64 * MiB;
    private static final long[] SIZES = {64, 1024, 4096, 4096, 8192, 16 * 1024, 64 * 1024, 64 * 1024, 256 * 1024};

    @Test
    void noLiveRangeIsHandedOutTwiceAndAllMemoryReturns() throws Exception {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, MEMORY).atomicPools(0, 0).build()) {
            DmaDevice low = platform.attach(DeviceProperties.simple("stress-24bit"));
            low.setMaskAndCoherent(DmaMask.bits(24));
            DmaDevice high = platform.attach(DeviceProperties.simple("stress-64bit"));
            high.setMaskAndCoherent(DmaMask.BITS_64);
            platform.drainThreadCaches();
            MemoryStats start = platform.memoryStats();

            AtomicLongArray pages = new AtomicLongArray((int) (MEMORY / 4096 / 64));
            Queue<String> problems = new ConcurrentLinkedQueue<>();
            AtomicLong operations = new AtomicLong();
            AtomicLong exhausted = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                Thread thread = new Thread(() -> {
                    try {
                        go.await();
                        run(id, low, high, pages, problems, operations, exhausted);
                    } catch (Throwable e) {
                        problems.add("thread " + id + " died: " + e);
                    }
                }, "stress-" + t);
                thread.start();
                threads.add(thread);
            }
            go.countDown();
            for (Thread thread : threads) {
                thread.join();
            }

            assertTrue(problems.isEmpty(), () -> problems.size() + " problems, first: " + problems.peek());
            assertTrue(operations.get() >= 1_000_000, "ran " + operations.get() + " allocate/free pairs");
            assertTrue(exhausted.get() < operations.get() / 100, "memory ran out too often: " + exhausted.get());
            for (int i = 0; i < pages.length(); i++) {
                assertEquals(0, pages.get(i), "pages still marked live at word " + i);
            }
            platform.drainThreadCaches();
            assertEquals(start, platform.memoryStats(), "free memory returns to its starting value");
        }
    }

    private static void run(int id, DmaDevice low, DmaDevice high, AtomicLongArray pages, Queue<String> problems,
            AtomicLong operations, AtomicLong exhausted) {
        SplittableRandom random = new SplittableRandom(id);
        DmaBuffer[] live = new DmaBuffer[LIVE_PER_THREAD];
        long[] tags = new long[LIVE_PER_THREAD];
        for (int i = 0; i < PAIRS_PER_THREAD; i++) {
            int slot = random.nextInt(LIVE_PER_THREAD);
            if (live[slot] != null) {
                release(live[slot], tags[slot], pages, problems);
                live[slot] = null;
            }
            DmaDevice device = random.nextInt(8) == 0 ? low : high;
            long size = SIZES[random.nextInt(SIZES.length)];
            DmaBuffer buffer;
            try {
                buffer = device.allocCoherent(size);
            } catch (DmaAllocationException e) {
                exhausted.incrementAndGet();
                continue;
            }
            operations.incrementAndGet();
            claim(buffer, pages, problems);
            long tag = ((long) id << 48) ^ i;
            buffer.cpuView().putLong(0, tag).putLong((int) buffer.size() - 8, tag);
            live[slot] = buffer;
            tags[slot] = tag;
        }
        for (int slot = 0; slot < LIVE_PER_THREAD; slot++) {
            if (live[slot] != null) {
                release(live[slot], tags[slot], pages, problems);
            }
        }
    }

    private static void claim(DmaBuffer buffer, AtomicLongArray pages, Queue<String> problems) {
        forEachPage(buffer, (word, bit) -> {
            long old;
            do {
                old = pages.get(word);
                if ((old & bit) != 0) {
                    problems.add("page " + (word * 64 + Long.numberOfTrailingZeros(bit)) + " handed out twice, in " + buffer);
                    return;
                }
            } while (!pages.compareAndSet(word, old, old | bit));
        });
    }

    private static void release(DmaBuffer buffer, long tag, AtomicLongArray pages, Queue<String> problems) {
        ByteBuffer view = buffer.cpuView();
        if (view.getLong(0) != tag || view.getLong((int) buffer.size() - 8) != tag) {
            problems.add("someone else wrote into " + buffer);
        }
        forEachPage(buffer, (word, bit) -> {
            long old;
            do {
                old = pages.get(word);
            } while (!pages.compareAndSet(word, old, old & ~bit));
        });
        buffer.close();
    }

    private interface PageAction {
        void apply(int word, long bit);
    }

    private static void forEachPage(DmaBuffer buffer, PageAction action) {
        long first = buffer.dmaAddress() / 4096;
        long count = buffer.allocatedSize() / 4096;
        for (long page = first; page < first + count; page++) {
            action.apply((int) (page / 64), 1L << (page % 64));
        }
    }
}
