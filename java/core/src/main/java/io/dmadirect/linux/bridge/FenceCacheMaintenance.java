package io.dmadirect.linux.bridge;

import io.dmadirect.spi.CacheMaintenance;
import java.lang.System.Logger.Level;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pure-Java fallback: a full fence, nothing more. On x86 that is complete, because PCIe DMA snoops
 * the caches there and the kernel's x86 has no {@code arch_sync_dma_for_device()} at all: only the order
 * of the CPU's stores against the doorbell matters. Elsewhere a device may not snoop, so the first use
 * logs once that caches cannot be maintained, and why.
 */
final class FenceCacheMaintenance implements CacheMaintenance {
    private static final System.Logger LOG = System.getLogger(FenceCacheMaintenance.class.getName());

    private final String reason;
    private final boolean dmaIsCoherent;
    private final AtomicBoolean warned = new AtomicBoolean();

    /** {@code dmaIsCoherent}: this arch's DMA always snoops (x86), so fences are all it needs. */
    FenceCacheMaintenance(String reason, boolean dmaIsCoherent) {
        this.reason = reason;
        this.dmaIsCoherent = dmaIsCoherent;
    }

    @Override
    public void clean(long cpuAddress, long size) {
        warnOnce();
        VarHandle.fullFence();
    }

    @Override
    public void invalidate(long cpuAddress, long size) {
        warnOnce();
        VarHandle.fullFence();
    }

    /** Whether the first use has logged that caches were not maintained. */
    boolean warned() {
        return warned.get();
    }

    private void warnOnce() {
        if (!dmaIsCoherent && !warned.get() && warned.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, NativeLibrary.PREFIX + "CPU caches cannot be maintained ({0}): a device that "
                    + "does not snoop caches may read stale data or have its writes hidden; load libdmadirect.so "
                    + "(see -D" + NativeLibrary.PATH_PROPERTY + ")", reason);
        }
    }

    @Override
    public String toString() {
        return "fences only (" + reason + ")";
    }
}
