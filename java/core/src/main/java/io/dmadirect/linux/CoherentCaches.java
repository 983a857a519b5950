package io.dmadirect.linux;

import io.dmadirect.spi.CacheMaintenance;
import java.lang.invoke.VarHandle;

/**
 * Cache maintenance for devices that snoop the CPU caches, as every PCIe device on x86 does: the
 * kernel's {@code arch_sync_dma_for_device()} is empty there. What remains is ordering: stores to DMA
 * memory must be visible before the store that tells the device to look, hence a full fence. The JNI
 * bridge replaces this for non-coherent devices.
 */
final class CoherentCaches implements CacheMaintenance {
    static final CoherentCaches INSTANCE = new CoherentCaches();

    private CoherentCaches() {
    }

    @Override
    public void clean(long cpuAddress, long size) {
        VarHandle.fullFence();
    }

    @Override
    public void invalidate(long cpuAddress, long size) {
        VarHandle.fullFence();
    }
}
