package io.dmadirect;

import java.util.List;
import java.util.OptionalInt;

/**
 * How one coherent allocation was served: where the policy wanted it, where it came from, and the
 * steps in between (fallbacks and why they were taken).
 *
 * @param optimalZone the zone {@code dma_direct_optimal_gfp_mask()} picked first
 * @param zone        the zone the memory came from
 * @param path        which allocator served it
 * @param steps       one line per attempt that did not succeed, in order; empty on the fast path
 * @param numaNode    issue 21: the NUMA node the memory is on, when the platform knows it (hugepages taken for a
 *                    device on a NUMA host); empty otherwise
 * @param preferredNode issue 21: the node the memory was asked from (the device's, as the kernel's
 *                    {@code dev_to_node}); empty when any node would do. A {@code numaNode} other than it is a fallback
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/device.h">dev_to_node</a>
 */
public record AllocationReport(Zone optimalZone, Zone zone, AllocationPath path, List<String> steps,
        OptionalInt numaNode, OptionalInt preferredNode) {
    /**
     * Copies the steps.
     *
     * @param optimalZone the zone the device's mask falls into
     * @param zone        the zone the memory came from
     * @param path        which allocator served it
     * @param steps       one line per attempt that did not succeed, in order
     * @param numaNode    the NUMA node the memory is on; empty (or null) when unknown
     * @param preferredNode the node the memory was asked from; empty (or null) when any node would do
     */
    public AllocationReport {
        steps = List.copyOf(steps);
        numaNode = numaNode == null ? OptionalInt.empty() : numaNode;
        preferredNode = preferredNode == null ? OptionalInt.empty() : preferredNode;
    }

    /**
     * A report that names no NUMA node (a platform that does not know them).
     *
     * @param optimalZone the zone the device's mask falls into
     * @param zone        the zone the memory came from
     * @param path        which allocator served it
     * @param steps       one line per attempt that did not succeed, in order
     */
    public AllocationReport(Zone optimalZone, Zone zone, AllocationPath path, List<String> steps) {
        this(optimalZone, zone, path, steps, OptionalInt.empty(), OptionalInt.empty());
    }

    /** {@return whether the memory is on another node than the one asked (the kernel's node fallback)} */
    public boolean fellBackToAnotherNode() {
        return numaNode.isPresent() && preferredNode.isPresent() && numaNode.getAsInt() != preferredNode.getAsInt();
    }

    @Override
    public String toString() {
        String head = path + " from " + zone + (zone == optimalZone ? " (optimal zone)" : " (optimal was " + optimalZone + ")");
        String body = steps.isEmpty() ? head : head + "; " + String.join("; ", steps);
        if (numaNode.isEmpty()) {
            return body;
        }
        String node = "; on NUMA node " + numaNode.getAsInt();
        if (fellBackToAnotherNode()) {
            node += " (fell back from node " + preferredNode.getAsInt() + ", which had too few free hugepages)";
        } else if (preferredNode.isPresent()) {
            node += " (the node asked)";
        }
        return body + node;
    }
}
