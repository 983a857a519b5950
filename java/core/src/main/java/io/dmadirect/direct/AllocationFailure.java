package io.dmadirect.direct;

import static io.dmadirect.Sizes.format;
import static io.dmadirect.Sizes.hex;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.MemoryStats;
import io.dmadirect.ZoneStats;

/** Builds the message of a failed allocation: the device's limits, the size, the steps, and each zone's free memory. */
final class AllocationFailure {

    private AllocationFailure() {
    }

    /** @param kind what was asked: "coherent" for {@code dma_alloc_attrs()}, "non-coherent" for {@code dma_alloc_pages()} */
    static DmaAllocationException of(String device, String kind, DevicePolicy policy, long size, String what,
            AllocationSteps steps, MemoryStats stats) {
        DeviceDma dev = policy.dma;
        StringBuilder message = new StringBuilder()
                .append("failed to allocate ").append(format(size)).append(" of ").append(kind)
                .append(" DMA memory for ")
                .append(device).append(": ").append(what)
                .append(". Coherent mask ").append(dev.coherentMask())
                .append(", bus limit ").append(dev.busDmaLimit() == 0 ? "none" : hex(dev.busDmaLimit()))
                .append(", optimal zone ").append(policy.zoneChoice.zone());
        if (!steps.list().isEmpty()) {
            message.append(". Tried: ").append(String.join("; ", steps.list()));
        }
        message.append(". Free memory: ");
        boolean first = true;
        for (ZoneStats zone : stats.zones()) {
            if (!first) {
                message.append(", ");
            }
            first = false;
            message.append(zone.zone()).append(' ').append(format(zone.free() + zone.cached())).append(" free of ")
                    .append(format(zone.total())).append(" (largest block ").append(format(zone.largestFree())).append(')');
        }
        return new DmaAllocationException(message.toString());
    }
}
