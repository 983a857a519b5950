package io.dmadirect.contract;

import io.dmadirect.DmaPlatform;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.host.PciPlatforms;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedMemory;
import java.util.List;

/**
 * The contract in IOVA mode: simulated memory whose physical addresses all lie above 64 GiB (no mask
 * below 37 bits could reach them), mapped through a simulated IOMMU. Every mask still works, because
 * the IOVAs are placed, and the device reaches the buffers only through the IOMMU's translation.
 */
class SimulatedIovaContractTest extends DmaDeviceContractTest {
    private static final long MiB = 1L << 20;
    private SimulatedIommu iommu;

    @Override
    protected DmaPlatform newPlatform() {
        iommu = SimulatedIommu.likeIntelIommu();
        SimulatedMemory memory = new SimulatedMemory(2 * MiB, List.of(new long[] {64L << 30, 256 * MiB}), 65L << 30);
        // NEVER: simulated memory, whatever host runs the test.
        return PciPlatforms.iova("iova-sim", memory, iommu, null,
                PciPlatforms.defaults().withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER));
    }

    @Override
    protected boolean deviceWrite(long dma, byte[] data) {
        long cpu = iommu.translate(dma, data.length);
        if (cpu == 0) {
            return false;
        }
        RawMemory.copyFromArray(data, 0, cpu, data.length);
        return true;
    }
}
