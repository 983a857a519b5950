package com.example.driver;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.util.ArrayList;
import java.util.List;

/**
 * Shaped like the NVMe driver's NvmeController: loaded, not linked, before the attach (the rig's JUnit run
 * loads it resolving AgentAttachTest's field types), and its methods' signatures name {@link QueueShape},
 * which nothing has loaded yet. Byte Buddy's retransformation of this class used to load QueueShape by
 * reflection ({@code Class.getDeclaredMethods}) inside its own transformer, where a class being loaded
 * is not transformed, and QueueShape was never rewritten (the rig's "caller not rewritten" for
 * NvmeQueuePair when AgentAttachTest ran alone).
 */
public final class ControllerShape {
    private final List<QueueShape> pairs = new ArrayList<>();
    private final DmaDevice dma;

    private ControllerShape(DmaDevice dma) {
        this.dma = dma;
    }

    static ControllerShape bringUp(DmaDevice dma, List<DmaBuffer> held) {
        ControllerShape c = new ControllerShape(dma);
        QueueShape q = new QueueShape(c, 3);
        c.pairs.add(q);
        held.addAll(q.buffers());
        return c;
    }

    DmaDevice dma() {
        return dma;
    }

    /** Only its signature matters: it names QueueShape. */
    public QueueShape queuePair(int index) {
        return pairs.get(index);
    }
}
