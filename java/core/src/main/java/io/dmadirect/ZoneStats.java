package io.dmadirect;

/**
 * Memory of one zone, in bytes.
 *
 * @param zone         the zone
 * @param total        all memory the platform holds in the zone
 * @param free         free in the shared allocator
 * @param cached       free but parked in per-thread caches, usable by their threads first
 * @param largestFree  the largest physically contiguous free block
 */
public record ZoneStats(Zone zone, long total, long free, long cached, long largestFree) {
    @Override
    public String toString() {
        return String.format("%s: %s total, %s free, %s cached, largest free %s", zone, Sizes.format(total),
                Sizes.format(free), Sizes.format(cached), Sizes.format(largestFree));
    }
}
