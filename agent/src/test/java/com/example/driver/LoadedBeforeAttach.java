package com.example.driver;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.util.List;

/** A driver class that the attach target loads, without linking it, before the agent is attached. */
final class LoadedBeforeAttach {
    private LoadedBeforeAttach() {
    }

    static void allocate(DmaDevice nic, List<DmaBuffer> held) {
        held.add(nic.allocCoherent(32768));
    }
}
