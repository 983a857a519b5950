package io.dmadirect.linux.hugepages;

import java.util.Map;
import java.util.TreeMap;

/**
 * Where a {@link HugepageMemory}'s pages lie by NUMA node, against the node they were asked from: the allocation
 * report of memory taken for a device on a NUMA host. The kernel takes DMA memory from the device's node first
 * ({@code dev_to_node}) and falls back to the others; so does {@code MPOL_PREFERRED}, and this says when it did.
 *
 * @param preferredNode the node asked for, or {@link HugepageOptions#ANY_NODE}
 * @param pagesByNode   pages per node as {@code move_pages(2)} reported them (-1: the kernel did not say)
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/device.h">dev_to_node</a>
 */
public record NodePlacement(int preferredNode, Map<Integer, Integer> pagesByNode) {
    /** No preference, nothing asked. */
    public static final NodePlacement NONE = new NodePlacement(HugepageOptions.ANY_NODE, Map.of());

    public NodePlacement {
        // Sorted by node, so that the report reads the same every time.
        pagesByNode = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(pagesByNode));
    }

    /** {@return the placement of pages whose nodes are {@code nodes}, asked from {@code preferred}} */
    public static NodePlacement of(int preferred, int[] nodes) {
        Map<Integer, Integer> count = new TreeMap<>();
        for (int n : nodes) {
            count.merge(n < 0 ? -1 : n, 1, Integer::sum);
        }
        return new NodePlacement(preferred, count);
    }

    /** {@return this placement and {@code other}'s pages together (a grown memory's segments)} */
    public NodePlacement plus(NodePlacement other) {
        Map<Integer, Integer> sum = new TreeMap<>(pagesByNode);
        other.pagesByNode.forEach((node, pages) -> sum.merge(node, pages, Integer::sum));
        return new NodePlacement(preferredNode == HugepageOptions.ANY_NODE ? other.preferredNode : preferredNode, sum);
    }

    /** {@return the pages on {@code node}} */
    public int pagesOn(int node) {
        return pagesByNode.getOrDefault(node, 0);
    }

    /** {@return whether some pages came from another node than the preferred one} */
    public boolean fellBack() {
        if (preferredNode == HugepageOptions.ANY_NODE) {
            return false;
        }
        return pagesByNode.entrySet().stream().anyMatch(e -> e.getKey() != preferredNode && e.getValue() > 0);
    }

    @Override
    public String toString() {
        if (preferredNode == HugepageOptions.ANY_NODE && pagesByNode.isEmpty()) {
            return "no NUMA node asked";
        }
        StringBuilder b = new StringBuilder();
        pagesByNode.forEach((node, pages) -> b.append(b.length() == 0 ? "" : ", ").append(pages).append(" on ")
                .append(node < 0 ? "an unknown node" : "node " + node));
        String where = b.length() == 0 ? "no pages" : b.toString();
        if (preferredNode == HugepageOptions.ANY_NODE) {
            return "pages " + where;
        }
        return "node " + preferredNode + " preferred; pages " + where
                + (fellBack() ? "; fell back to other nodes: node " + preferredNode + " had too few free" : "");
    }
}
