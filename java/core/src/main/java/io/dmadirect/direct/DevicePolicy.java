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
    /**
     * The device's own half of {@code is_swiotlb_force_bounce()} (a restricted pool, a confidential guest): fixed
     * with the policy, so the direct branch of every streaming map reads one field instead of two record calls.
     */
    final boolean deviceForcesBounce;
    /** {@code dma_direct_get_required_mask()}'s streaming side, {@code min_not_zero(mask, bus_dma_limit)}: read per map. */
    final long streamingLimit;
    /** No dma-ranges and no encryption bit: the DMA address is the physical one, no list to walk per map and unmap. */
    final boolean identity;

    DevicePolicy(DeviceDma dma, ZoneLayout zones) {
        this.dma = dma;
        this.zoneChoice = DmaDirect.optimalZone(dma, zones);
        this.forceUnencrypted = DmaDirect.forceUnencrypted(dma);
        this.remap = !dma.coherent();
        this.coherentLimit = DmaDirect.coherentLimit(dma);
        this.physToDmaUnencrypted = dma.ranges().isEmpty() ? null : phys -> DmaDirect.physToDmaUnencrypted(dma, phys);
        this.deviceForcesBounce = dma.restrictedPool() || dma.guestMemEncrypt();
        this.streamingLimit = DmaDirect.streamingLimit(dma);
        this.identity = dma.ranges().isEmpty() && dma.encryptionMask() == 0;
    }

    /** {@code dma_to_phys()} for this device: {@link DmaDirect#dmaToPhys}, without the walk when {@link #identity}. */
    long dmaToPhys(long dmaAddress) {
        return identity ? dmaAddress : DmaDirect.dmaToPhys(dma, dmaAddress);
    }

    /** {@code dma_capable()} for this device, from the cached limit: the same answer as {@link DmaDirect#capable}. */
    boolean capable(long dmaAddress, long size) {
        return DmaDirect.withinStreamingLimit(dmaAddress, size, streamingLimit);
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
