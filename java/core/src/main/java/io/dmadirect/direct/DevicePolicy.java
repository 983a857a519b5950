package io.dmadirect.direct;

import io.dmadirect.spi.ZoneLayout;

/**
 * What the policy functions conclude about one {@link DeviceDma}, computed once when a driver sets a
 * mask rather than on every allocation: the hot path reads fields, it does not re-derive them.
 */
final class DevicePolicy {
    final DeviceDma dma;
    final DmaDirect.ZoneChoice zoneChoice;
    final boolean forceUnencrypted;
    final boolean remap;
    final long coherentLimit;
    /** {@code phys_to_dma_unencrypted()} as a function, made once, for swiotlb's slot search; null without dma-ranges. */
    final java.util.function.LongUnaryOperator physToDmaUnencrypted;

    DevicePolicy(DeviceDma dma, ZoneLayout zones) {
        this.dma = dma;
        this.zoneChoice = DmaDirect.optimalZone(dma, zones);
        this.forceUnencrypted = DmaDirect.forceUnencrypted(dma);
        this.remap = !dma.coherent();
        this.coherentLimit = DmaDirect.coherentLimit(dma);
        this.physToDmaUnencrypted = dma.ranges().isEmpty() ? null : phys -> DmaDirect.physToDmaUnencrypted(dma, phys);
    }

    /** {@code phys_to_dma_direct()} for this device. */
    long physToDma(long phys) {
        return DmaDirect.physToDmaDirect(dma, phys, forceUnencrypted);
    }

    /** {@code dma_coherent_ok()} for this device: the same answer as {@link DmaDirect#coherentOk}, from cached facts. */
    boolean coherentOk(long phys, long size) {
        return DmaDirect.withinLimit(physToDma(phys), size, coherentLimit);
    }
}
