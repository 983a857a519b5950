package io.dmadirect.direct;

import io.dmadirect.DmaDirection;
import io.dmadirect.spi.CacheMaintenance;

/**
 * The cache maintenance of a sync for a device that does not snoop the CPU's caches, as the kernel's
 * {@code arch_sync_dma_for_device()} and {@code arch_sync_dma_for_cpu()} do it by direction.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_sync_single_for_device</a>
 */
final class ArchSync {

    private ArchSync() {
    }

    /** {@code arch_sync_dma_for_device()}: write back what the device reads, drop what it will overwrite. */
    static void forDevice(CacheMaintenance caches, long cpu, long size, DmaDirection dir) {
        switch (dir) {
            case TO_DEVICE:
                caches.clean(cpu, size);
                break;
            case FROM_DEVICE:
                caches.invalidate(cpu, size);
                break;
            default:
                caches.flush(cpu, size);
                break;
        }
    }

    /** {@code arch_sync_dma_for_cpu()}: drop lines the CPU may have fetched while the device wrote. */
    static void forCpu(CacheMaintenance caches, long cpu, long size, DmaDirection dir) {
        if (dir != DmaDirection.TO_DEVICE) {
            caches.invalidate(cpu, size);
        }
    }
}
