package io.dmadirect.examples;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;

/** The guide's example of {@code dma_alloc_noncoherent()}: the owner syncs around each hand-over. */
public final class NoncoherentMemory {
    private NoncoherentMemory() {
    }

    /** A receive buffer of a device that does not snoop caches: the device writes, the CPU reads; returns what it read. */
    public static int receive() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64L << 20).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64-nic").withCoherent(false));
            SimulatedBusMaster nic = platform.busMaster(device, 32);
            // region:noncoherent
            try (NoncoherentBuffer rx = device.allocNoncoherent(2048, DmaDirection.FROM_DEVICE)) {
                rx.syncForDevice();                        // hand it to the device: drops stale cache lines
                nic.write(rx.dmaAddress(), new byte[] {42}); // the device writes (here: the simulation)
                rx.syncForCpu(0, 64);                      // take back what the CPU will read
                ByteBuffer cpu = rx.cpuView();
                return cpu.get(0);                         // 42
            }
            // endregion:noncoherent
        }
    }
}
