package com.example.driver;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Shaped like the NVMe driver's NvmeQueueRing (as NvmeQueuePair was before the ring was split out of it):
 * allocates its queues in its constructor, has a static
 * initialiser, a nested functional interface and a field of a type from another class of the driver;
 * loaded for the first time by the agent's retransformation of {@link ControllerShape}.
 */
public final class QueueShape implements AutoCloseable {
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Receives completions. */
    @FunctionalInterface
    public interface CompletionHandler {
        void completed(int cid, int status);
    }

    private final ControllerShape controller;
    private final DmaBuffer sqMemory;
    private final DmaBuffer cqMemory;

    QueueShape(ControllerShape controller, int qid) {
        this.controller = controller;
        DmaDevice dma = controller.dma();
        sqMemory = dma.allocCoherent(20480);
        cqMemory = dma.allocCoherent(24576);
        INT.set(sqMemory.cpuView(), 0, qid);
    }

    List<DmaBuffer> buffers() {
        return List.of(sqMemory, cqMemory);
    }

    /** Polls with a handler (unused here; its shape is the point). */
    public int poll(CompletionHandler handler) {
        Runnable r = () -> handler.completed(0, 0);
        r.run();
        return 1;
    }

    @Override
    public void close() {
        cqMemory.close();
        sqMemory.close();
    }
}
