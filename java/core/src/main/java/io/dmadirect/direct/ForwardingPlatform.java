package io.dmadirect.direct;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.MemoryStats;

/**
 * A platform that is a {@link DirectPlatform} plus what its mechanism adds (the simulated machine's
 * devices, the Linux host's address table). The dma-direct behaviour is forwarded unchanged, so every
 * platform allocates by the same policy.
 */
public abstract class ForwardingPlatform implements DmaPlatform {
    protected final DirectPlatform direct;

    protected ForwardingPlatform(DirectPlatform direct) {
        this.direct = direct;
    }

    /** The dma-direct platform underneath, for its pools and counters. */
    public final DirectPlatform direct() {
        return direct;
    }

    @Override
    public DmaDevice attach(DeviceProperties properties) {
        return direct.attach(properties);
    }

    @Override
    public DmaMask requiredMask() {
        return direct.requiredMask();
    }

    @Override
    public int zoneDmaBits() {
        return direct.zoneDmaBits();
    }

    @Override
    public boolean forcedUnencrypted() {
        return direct.forcedUnencrypted();
    }

    @Override
    public MemoryStats memoryStats() {
        return direct.memoryStats();
    }

    @Override
    public void close() {
        direct.close();
    }
}
