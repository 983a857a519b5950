package io.dmadirect.contract;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaPlatform;
import io.dmadirect.sim.SimulatedPlatform;

/** The contract in PA mode: the simulated machine, DMA address = physical address. */
class SimulatedPaContractTest extends DmaDeviceContractTest {
    private static final long MiB = 1L << 20;
    private SimulatedPlatform sim;

    @Override
    protected DmaPlatform newPlatform() {
        sim = SimulatedPlatform.builder().region(2 * MiB, 14 * MiB).region(64 * MiB, 64 * MiB)
                .region(1024 * MiB, 64 * MiB).region(5L * 1024 * MiB, 64 * MiB).build();
        return sim;
    }

    @Override
    protected boolean deviceWrite(long dma, byte[] data) {
        return sim.busMaster(sim.attach(DeviceProperties.simple("bus")), 64).write(dma, data);
    }
}
