package com.example.driver;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.util.List;

/**
 * Loaded, not linked, before the attach; linking it verifies {@link #make}, which loads {@link Part}'s
 * subclass {@link QueuePart} (a driver class loaded as a side effect of another's linking, wherever that
 * happens relative to the attach's retransformation). AttachIT checks that QueuePart's call site is
 * rewritten, one of the suspects for the rig's NvmeQueuePair whose sites were not (issue 14 notes).
 */
final class LinkedByTheAttach {
    private LinkedByTheAttach() {
    }

    abstract static class Part {
    }

    static final class QueuePart extends Part {
        QueuePart(DmaDevice nic, List<DmaBuffer> held) {
            held.add(nic.allocCoherent(12288));
        }
    }

    static Part make(DmaDevice nic, List<DmaBuffer> held) {
        return new QueuePart(nic, held); // the verifier loads QueuePart to check it is a Part
    }
}
