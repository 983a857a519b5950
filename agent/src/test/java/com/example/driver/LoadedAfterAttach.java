package com.example.driver;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.util.List;

/** A driver class that the attach target loads only after the agent was attached (as the rig's NVMe queue pair is). */
final class LoadedAfterAttach {
    private LoadedAfterAttach() {
    }

    static void allocate(DmaDevice nic, List<DmaBuffer> held) {
        held.add(nic.allocCoherent(16384));
    }
}
