package io.dmadirect;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Free and total memory of every zone, lowest zone first.
 *
 * @param zones one entry per zone, lowest first
 */
public record MemoryStats(List<ZoneStats> zones) {
    /**
     * Copies the list.
     *
     * @param zones one entry per zone, lowest first
     */
    public MemoryStats {
        zones = List.copyOf(zones);
    }

    /**
     * {@return the statistics of one zone; all zero when the platform has no memory in it}
     *
     * @param zone the zone
     */
    public ZoneStats zone(Zone zone) {
        for (ZoneStats stats : zones) {
            if (stats.zone() == zone) {
                return stats;
            }
        }
        return new ZoneStats(zone, 0, 0, 0, 0);
    }

    /** {@return free bytes of all zones, counting per-thread caches as free} */
    public long available() {
        return zones.stream().mapToLong(z -> z.free() + z.cached()).sum();
    }

    @Override
    public String toString() {
        return zones.stream().map(ZoneStats::toString).collect(Collectors.joining(", "));
    }
}
