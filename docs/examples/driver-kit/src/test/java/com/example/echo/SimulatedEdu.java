package com.example.echo;

import io.dmadirect.DmaDevice;
import io.dmadirect.junit.DeviceUnderTest;
import io.dmadirect.sim.SimulatedBusMaster;

/**
 * The edu played on the simulated platform: a DMA engine with a 4 KiB buffer that drives {@code addressBits}
 * address lines (the real one's mask), so memory beyond them gives wrong data, as on the device.
 */
final class SimulatedEdu implements DmaEngine {
    private final SimulatedBusMaster bus;
    private byte[] held = new byte[0];

    SimulatedEdu(DeviceUnderTest device, DmaDevice dma, int addressBits) {
        this.bus = device.simulated().orElseThrow().busMaster(dma, addressBits);
    }

    @Override
    public void toDevice(long dmaAddress, int length) {
        held = bus.read(dmaAddress, length);
        if (held == null) {
            throw new IllegalStateException("simulated edu: DMA read faulted: " + bus.faults());
        }
    }

    @Override
    public void fromDevice(long dmaAddress, int length) {
        if (!bus.write(dmaAddress, held)) {
            throw new IllegalStateException("simulated edu: DMA write faulted: " + bus.faults());
        }
    }
}
