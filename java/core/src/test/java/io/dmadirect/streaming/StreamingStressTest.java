package io.dmadirect.streaming;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import io.dmadirect.spi.SwiotlbConfig;
import io.dmadirect.swiotlb.SwiotlbStats;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Eight threads map and unmap random sizes and directions of heap arrays, off-heap buffers and coherent
 * memory, with several mappings in flight each, and check every byte through the simulated device in
 * both directions. The pool is small enough that it fills: a full pool must give a
 * {@link DmaMappingException}, never a truncated or blocked mapping. At the end no slot is in use and
 * the high-water mark never exceeded the pool.
 */
class StreamingStressTest {
    private static final int THREADS = 8;
    private static final int ROUNDS = 1500;
    private static final int IN_FLIGHT = 4;

    @Test
    void eightThreadsMapAndUnmapRandomSizesAndDirections() throws Exception {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(16 * MiB, 48 * MiB)
                .region(4L << 30, 64 * MiB)
                .atomicPools(0, 0).bouncePool(SwiotlbConfig.defaults().withBytes(2 * MiB).withAreas(4)).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("stress"));
            // A 32-bit streaming mask: coherent memory above 4 GiB is pinned but out of reach, so it bounces too.
            device.setDmaMask(DmaMask.BITS_32);
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            Swiotlb tlb = platform.direct().swiotlb();
            MemoryStats memoryBefore = platform.memoryStats();
            List<DmaBuffer> coherent = new ArrayList<>();
            ByteBuffer[][] regions = new ByteBuffer[THREADS][];
            for (int t = 0; t < THREADS; t++) {
                device.setCoherentMask(DmaMask.BITS_32);
                DmaBuffer low = device.allocCoherent(256 * 1024);
                device.setCoherentMask(DmaMask.BITS_64);
                DmaBuffer high = device.allocCoherent(256 * 1024);
                coherent.add(low);
                coherent.add(high);
                regions[t] = new ByteBuffer[] {low.cpuView(), high.cpuView(), ByteBuffer.allocateDirect(256 * 1024)};
            }
            AtomicLong checked = new AtomicLong();
            AtomicLong full = new AtomicLong();
            AtomicLong bounced = new AtomicLong();
            AtomicLong direct = new AtomicLong();
            CyclicBarrier start = new CyclicBarrier(THREADS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    worker(device, engine, new Random(seed), regions[seed], checked, full, bounced, direct);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            SwiotlbStats stats = tlb.stats();
            assertEquals(0, stats.usedSlots(), "no slot leaks: " + stats);
            assertTrue(stats.highWaterSlots() <= stats.totalSlots(), stats.toString());
            assertTrue(stats.highWaterSlots() > 0, stats.toString());
            assertEquals(stats.totalSlots(), freeSlots(tlb), "every slot free again, in whole segments");
            assertTrue(bounced.get() > 1000 && direct.get() > 100, "both paths ran: " + bounced + " bounced, " + direct + " direct");
            assertTrue(full.get() < bounced.get() / 4, full + " mappings found the pool full, " + bounced + " bounced");
            assertTrue(checked.get() > 0);
            coherent.forEach(DmaBuffer::close);
            device.close();
            platform.drainThreadCaches();
            assertEquals(memoryBefore, platform.memoryStats(), "coherent memory returned");
        }
    }

    /** Free slots as the free list sees them: the pool must be able to take a whole segment in each. */
    private static long freeSlots(Swiotlb tlb) {
        List<Long> handles = new ArrayList<>();
        long handle;
        while ((handle = tlb.mapSingle(0, Swiotlb.SEGMENT_BYTES, 0, 0, -1L, false)) != Swiotlb.NONE) {
            handles.add(handle);
        }
        handles.forEach(tlb::release);
        return (long) handles.size() * Swiotlb.SEGMENT_SLOTS;
    }

    private static void worker(DmaDevice device, SimulatedBusMaster engine, Random random, ByteBuffer[] regions,
            AtomicLong checked, AtomicLong full, AtomicLong bounced, AtomicLong direct) {
        DmaDirection[] dirs = {DmaDirection.TO_DEVICE, DmaDirection.FROM_DEVICE, DmaDirection.BIDIRECTIONAL};
        List<Job> inFlight = new ArrayList<>();
        boolean[] busy = new boolean[regions.length];
        for (int round = 0; round < ROUNDS; round++) {
            int size = 1 + random.nextInt(random.nextInt(8) == 0 ? 256 * 1024 : 8192);
            DmaDirection dir = dirs[random.nextInt(dirs.length)];
            byte[] original = new byte[size];
            random.nextBytes(original);
            Job job = new Job(dir, original);
            // Region 0 is coherent memory within the mask (direct), 1 coherent memory beyond it, 2 allocateDirect;
            // anything else, or a region still in flight, maps a heap array.
            int region = random.nextInt(regions.length + 1);
            try {
                if (region < regions.length && !busy[region]) {
                    job.region = region;
                    job.view = regions[region].slice(0, size);
                    job.view.put(0, original);
                    job.mapping = device.map(job.view, dir);
                    busy[region] = true;
                } else {
                    job.array = original.clone();
                    job.mapping = device.map(job.array, 0, size, dir);
                }
            } catch (DmaMappingException e) {
                assertTrue(e.getMessage().contains("slots in use") && e.getMessage().contains("largest free run"),
                        e.getMessage());
                full.incrementAndGet();
                if (!inFlight.isEmpty()) {
                    finish(inFlight.remove(0), engine, random, checked, busy);
                }
                continue;
            }
            (job.mapping.isBounced() ? bounced : direct).incrementAndGet();
            inFlight.add(job);
            if (inFlight.size() >= IN_FLIGHT) {
                finish(inFlight.remove(random.nextInt(inFlight.size())), engine, random, checked, busy);
            }
        }
        while (!inFlight.isEmpty()) {
            finish(inFlight.remove(0), engine, random, checked, busy);
        }
    }

    private static void finish(Job job, SimulatedBusMaster engine, Random random, AtomicLong checked, boolean[] busy) {
        DmaMapping m = job.mapping;
        int size = job.original.length;
        if (job.dir != DmaDirection.FROM_DEVICE) {
            byte[] seen = engine.read(m.dmaAddress(), size);
            if (!Arrays.equals(job.original, seen)) {
                throw new AssertionError("device read wrong bytes from " + m);
            }
        }
        byte[] written = null;
        if (job.dir != DmaDirection.TO_DEVICE) {
            written = new byte[size];
            random.nextBytes(written);
            if (!engine.write(m.dmaAddress(), written)) {
                throw new AssertionError("device write faulted for " + m + ": " + engine.faults());
            }
        }
        m.close();
        byte[] cpu = new byte[size];
        if (job.array != null) {
            System.arraycopy(job.array, 0, cpu, 0, size);
        } else {
            job.view.get(0, cpu);
        }
        byte[] expected = written != null ? written : job.original;
        if (!Arrays.equals(expected, cpu)) {
            throw new AssertionError("CPU sees wrong bytes after unmap of " + m);
        }
        checked.addAndGet(size);
        if (job.region >= 0) {
            busy[job.region] = false;
        }
    }

    private static final class Job {
        final DmaDirection dir;
        final byte[] original;
        byte[] array;
        ByteBuffer view;
        int region = -1;
        DmaMapping mapping;

        Job(DmaDirection dir, byte[] original) {
            this.dir = dir;
            this.original = original;
        }
    }
}
