package io.dmadirect;

import java.util.List;

/**
 * How one coherent allocation was served: where the policy wanted it, where it came from, and the
 * steps in between (fallbacks and why they were taken).
 *
 * @param optimalZone the zone {@code dma_direct_optimal_gfp_mask()} picked first
 * @param zone        the zone the memory came from
 * @param path        which allocator served it
 * @param steps       one line per attempt that did not succeed, in order; empty on the fast path
 */
public record AllocationReport(Zone optimalZone, Zone zone, AllocationPath path, List<String> steps) {
    /**
     * Copies the steps.
     *
     * @param optimalZone the zone the device's mask falls into
     * @param zone        the zone the memory came from
     * @param path        which allocator served it
     * @param steps       one line per attempt that did not succeed, in order
     */
    public AllocationReport {
        steps = List.copyOf(steps);
    }

    @Override
    public String toString() {
        String head = path + " from " + zone + (zone == optimalZone ? " (optimal zone)" : " (optimal was " + optimalZone + ")");
        return steps.isEmpty() ? head : head + "; " + String.join("; ", steps);
    }
}
