package io.dmadirect.streaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Primitive map, sync and unmap on several threads while the device, then the platform, close: no crash, only
 * {@link DmaUsageException}s that say the device is closed, and no bounce slot left in use afterwards.
 */
class PrimitiveCloseRaceTest {
    private static final int THREADS = 4;

    @RepeatedTest(3)
    void primitiveCallsRacingCloseEndCleanly() throws Exception {
        SimulatedPlatform platform = PrimitiveStreamingTest.twoZones();
        Swiotlb tlb = platform.direct().swiotlb();
        DmaDevice device = platform.attach(DeviceProperties.simple("racing"));
        DmaDevice coherentDevice = platform.attach(DeviceProperties.simple("racing-64"));
        coherentDevice.setMaskAndCoherent(DmaMask.BITS_64);
        DmaBuffer memory = coherentDevice.allocCoherent(64 * 1024);
        ConcurrentLinkedQueue<Throwable> wrong = new ConcurrentLinkedQueue<>();
        AtomicLong refused = new AtomicLong();
        AtomicLong done = new AtomicLong();
        CountDownLatch started = new CountDownLatch(THREADS);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            threads.add(new Thread(() -> {
                ByteBuffer direct = ByteBuffer.allocateDirect(8192);
                ByteBuffer heap = ByteBuffer.allocate(8192);
                ByteBuffer dmaMemory = memory.cpuView().slice(id * 8192, 8192);
                long[] out = new long[3];
                int[] lengths = {8192, 8192, 8192};
                ByteBuffer[] sg = {direct, heap, dmaMemory};
                started.countDown();
                while (true) {
                    try {
                        DmaDevice on = (done.get() & 1) == 0 ? device : coherentDevice;
                        long dma = on.mapSingle(id % 2 == 0 ? direct : heap, 0, 4096, DmaDirection.BIDIRECTIONAL, 0);
                        on.syncSingleForCpu(dma + 64, 64, DmaDirection.FROM_DEVICE);
                        on.syncSingleForDevice(dma, 4096, DmaDirection.TO_DEVICE);
                        on.unmapSingle(dma, 4096, DmaDirection.BIDIRECTIONAL, 0);
                        int n = on.mapSg(sg, 3, DmaDirection.FROM_DEVICE, 0, out);
                        on.syncSgForCpu(out, lengths, n, DmaDirection.FROM_DEVICE);
                        on.unmapSg(out, lengths, n, DmaDirection.FROM_DEVICE, 0);
                        done.incrementAndGet();
                    } catch (DmaUsageException e) {
                        if (!e.getMessage().contains("closed")) {
                            wrong.add(e);
                        }
                        refused.incrementAndGet();
                        if (refused.get() > 1000) {
                            return;
                        }
                    } catch (Throwable e) {
                        wrong.add(e);
                        return;
                    }
                }
            }, "primitive-" + t));
        }
        threads.forEach(Thread::start);
        started.await();
        while (done.get() < 200 && wrong.isEmpty()) {
            Thread.onSpinWait();
        }
        device.close();
        Thread.sleep(5);
        platform.close();
        for (Thread t : threads) {
            t.join(30_000);
            if (t.isAlive()) {
                fail(t.getName() + " did not finish after close");
            }
        }
        if (!wrong.isEmpty()) {
            Throwable first = wrong.peek();
            throw new AssertionError(wrong.size() + " unexpected failures, the first: " + first, first);
        }
        assertTrue(refused.get() > 0, "the close was raced");
        assertEquals(0, tlb.usedSlots(), "no bounce slot left in use: " + tlb.stats());
    }
}
