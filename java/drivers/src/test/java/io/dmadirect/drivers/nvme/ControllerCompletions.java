package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.CQE_SIZE;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The controller's side of a ring's completion queue, played by a test: its tail and its phase bit. */
final class ControllerCompletions {
    private final NvmeQueueRing ring;
    private int tail;
    private int phase = 1;

    ControllerCompletions(NvmeQueueRing ring) {
        this.ring = ring;
    }

    /** Posts a completion entry the way the controller does: dword 3 (cid, phase, status) last. */
    void post(int cid, int status, int dw0) {
        ByteBuffer cq = ring.completionQueue().cpuView().order(ByteOrder.LITTLE_ENDIAN);
        int o = tail * CQE_SIZE;
        cq.putInt(o, dw0);
        cq.putInt(o + 12, cid | phase << 16 | status << 17);
        if (++tail == ring.depth()) {
            tail = 0;
            phase ^= 1;
        }
    }
}
