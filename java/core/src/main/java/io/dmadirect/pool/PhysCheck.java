package io.dmadirect.pool;

/** {@code phys_addr_ok} of {@code dma_alloc_from_pool()}: whether the device can reach the memory. */
@FunctionalInterface
public interface PhysCheck {
    boolean ok(long physAddress, long size);
}
