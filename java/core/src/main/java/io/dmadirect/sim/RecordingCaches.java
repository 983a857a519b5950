package io.dmadirect.sim;

import io.dmadirect.spi.CacheMaintenance;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cache maintenance of a simulated machine: it counts what was cleaned and invalidated, so tests can
 * see that a non-coherent device's memory was prepared, and it fences as the real x86 path does.
 */
public final class RecordingCaches implements CacheMaintenance {
    private final AtomicLong cleanCalls = new AtomicLong();
    private final AtomicLong cleanedBytes = new AtomicLong();
    private final AtomicLong invalidateCalls = new AtomicLong();
    private final AtomicLong invalidatedBytes = new AtomicLong();

    @Override
    public void clean(long cpuAddress, long size) {
        java.lang.invoke.VarHandle.fullFence();
        cleanCalls.incrementAndGet();
        cleanedBytes.addAndGet(size);
    }

    @Override
    public void invalidate(long cpuAddress, long size) {
        java.lang.invoke.VarHandle.fullFence();
        invalidateCalls.incrementAndGet();
        invalidatedBytes.addAndGet(size);
    }

    public long cleanCalls() {
        return cleanCalls.get();
    }

    public long cleanedBytes() {
        return cleanedBytes.get();
    }

    public long invalidateCalls() {
        return invalidateCalls.get();
    }

    public long invalidatedBytes() {
        return invalidatedBytes.get();
    }
}
