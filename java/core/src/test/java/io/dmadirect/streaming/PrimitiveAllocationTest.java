package io.dmadirect.streaming;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The primitive API's promise: no object per map+unmap, direct or bounced, counted by the JVM's per-thread
 * allocation counter (the JMH run's {@code gc.alloc.rate.norm} measures the same in compiled code).
 */
class PrimitiveAllocationTest {
    private static final int ROUNDS = 20_000;

    @Test
    void mapAndUnmapAllocateNothing() {
        try (SimulatedPlatform platform = PrimitiveStreamingTest.twoZones()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("alloc"));
            DmaDevice wide = platform.attach(DeviceProperties.simple("alloc-64"));
            wide.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer memory = wide.allocCoherent(4096);
            ByteBuffer dmaView = memory.cpuView();
            ByteBuffer offHeap = ByteBuffer.allocateDirect(4096);
            ByteBuffer[] sg = {dmaView, offHeap};
            long[] out = new long[2];
            int[] lengths = {4096, 4096};
            Runnable direct = () -> wide.unmapSingle(wide.mapSingle(dmaView, 0, 4096, DmaDirection.TO_DEVICE, 0), 4096,
                    DmaDirection.TO_DEVICE, 0);
            Runnable bounced = () -> device.unmapSingle(device.mapSingle(offHeap, 0, 4096, DmaDirection.TO_DEVICE, 0),
                    4096, DmaDirection.TO_DEVICE, 0);
            Runnable scatter = () -> {
                device.mapSg(sg, 2, DmaDirection.BIDIRECTIONAL, 0, out);
                device.syncSgForCpu(out, lengths, 2, DmaDirection.BIDIRECTIONAL);
                device.unmapSg(out, lengths, 2, DmaDirection.BIDIRECTIONAL, 0);
            };
            for (Runnable r : new Runnable[] {direct, bounced, scatter}) {
                for (int i = 0; i < ROUNDS; i++) {
                    r.run(); // warm up: class loading and the first calls allocate
                }
            }
            assertTrue(allocatedPerCall(direct) < 1, "direct map+unmap");
            assertTrue(allocatedPerCall(bounced) < 1, "bounced map+unmap");
            assertTrue(allocatedPerCall(scatter) < 1, "scatter-gather map+sync+unmap");
        }
    }

    private static double allocatedPerCall(Runnable r) {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = bean.getThreadAllocatedBytes(id);
        for (int i = 0; i < ROUNDS; i++) {
            r.run();
        }
        double perCall = (double) (bean.getThreadAllocatedBytes(id) - before) / ROUNDS;
        System.out.println("allocated per call: " + perCall + " B");
        return perCall;
    }
}
