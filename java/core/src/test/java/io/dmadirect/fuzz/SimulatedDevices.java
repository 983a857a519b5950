package io.dmadirect.fuzz;

import io.dmadirect.DmaDevice;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;

/** A simulated device as the fuzz model sees it: the device, and its bus master with all 64 address lines. */
final class SimulatedDevices {
    private SimulatedDevices() {
    }

    static OperationSequence.Dev modelled(SimulatedPlatform platform, DmaDevice device, long encryptionMask) {
        SimulatedBusMaster engine = platform.busMaster(device, 64);
        return new OperationSequence.Dev(device, new DeviceSide() {
            @Override
            public byte[] read(long dma, int length) {
                return engine.read(dma, length);
            }

            @Override
            public boolean write(long dma, byte[] data) {
                return engine.write(dma, data);
            }
        }, encryptionMask);
    }
}
