package io.dmadirect.swiotlb;

import io.dmadirect.Sizes;

/**
 * A snapshot of the bounce pool, as the kernel's debugfs {@code swiotlb/} files show it.
 *
 * @param pools            the default pool plus the extra pools made on demand
 * @param totalSlots       {@code io_tlb_nslabs}: 2 KiB slots in all pools
 * @param usedSlots        {@code io_tlb_used}
 * @param highWaterSlots   {@code io_tlb_used_hiwater}: the most slots ever in use at once
 * @param largestFreeRun   the longest run of free slots one mapping could take (at most 128)
 * @param bounces          mappings and coherent allocations served from the pool
 * @param bytesToDevice    bytes copied into the pool (at map and {@code syncForDevice})
 * @param bytesFromDevice  bytes copied out of the pool (at {@code syncForCpu} and unmap)
 */
public record SwiotlbStats(int pools, long totalSlots, long usedSlots, long highWaterSlots, long largestFreeRun,
        long bounces, long bytesToDevice, long bytesFromDevice) {

    @Override
    public String toString() {
        return String.format("swiotlb: %d pool(s), %s in %d slots, %d used (high water %d), largest free run %d slots; "
                + "%d bounces, %s to device, %s from device", pools, Sizes.format(totalSlots * Swiotlb.SLOT_SIZE),
                totalSlots, usedSlots, highWaterSlots, largestFreeRun, bounces, Sizes.format(bytesToDevice),
                Sizes.format(bytesFromDevice));
    }
}
