package io.dmadirect.linux.sysfs;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The hugepage pools per size, for the whole host and per NUMA node, and reserving pages in them: the
 * global pools of /sys/kernel/mm/hugepages and those of /sys/devices/system/node/nodeN/hugepages, each
 * read through {@link HugepageSysfs}.
 */
public final class HugepagePools {
    /** All nodes together. */
    public static final int ALL_NODES = -1;

    /** One pool: a page size on a node (or {@link #ALL_NODES}), pages reserved and pages free. */
    public record Pool(HugepageSize size, int node, long total, long free) {
    }

    private final HostTree tree;

    public HugepagePools(HostTree tree) {
        this.tree = tree;
    }

    /** Node numbers present in sysfs, ascending. */
    public List<Integer> nodes() {
        List<Integer> nodes = new ArrayList<>();
        for (String name : tree.list("/sys/devices/system/node")) {
            if (name.matches("node[0-9]+")) {
                nodes.add(Integer.parseInt(name.substring(4)));
            }
        }
        nodes.sort(null);
        return nodes;
    }

    /**
     * Checks that {@code node} is {@link #ALL_NODES} or a node this host has, so that a typo gets its own message
     * rather than "2M hugepages are not available" from a sysfs directory that cannot exist.
     *
     * @throws IllegalArgumentException naming the node and the nodes there are
     */
    public void requireNode(int node) {
        if (node == ALL_NODES) {
            return;
        }
        List<Integer> nodes = nodes();
        if (node < 0 || !nodes.contains(node)) {
            throw new IllegalArgumentException("NUMA node " + node + " does not exist on this host (its nodes: " + nodes
                    + ", from /sys/devices/system/node); name one of them, or leave the node out for all nodes");
        }
    }

    /** The pools of one node (or of {@link #ALL_NODES} together), every size this kernel has. */
    public List<Pool> pools(int node) {
        requireNode(node);
        List<Pool> pools = new ArrayList<>();
        for (HugepageSize size : HugepageSize.values()) {
            addIfSupported(pools, size, node);
        }
        return pools;
    }

    public HugepageSysfs sysfs(int node) {
        return new HugepageSysfs(node == ALL_NODES ? tree.path("/sys/kernel/mm/hugepages")
                : tree.path("/sys/devices/system/node/node" + node + "/hugepages"));
    }

    /** Every pool of every size this kernel has: the host total first, then per node. */
    public List<Pool> pools() {
        List<Pool> pools = new ArrayList<>();
        for (HugepageSize size : HugepageSize.values()) {
            addIfSupported(pools, size, ALL_NODES);
            for (int node : nodes()) {
                addIfSupported(pools, size, node);
            }
        }
        return pools;
    }

    private void addIfSupported(List<Pool> pools, HugepageSize size, int node) {
        HugepageSysfs sysfs = sysfs(node);
        if (sysfs.supported(size)) {
            pools.add(new Pool(size, node, sysfs.nrHugepages(size), sysfs.freeHugepages(size)));
        }
    }

    /**
     * Sets the pool of {@code size} on {@code node} to {@code pages}, as {@code echo pages > nr_hugepages}.
     * The kernel may give fewer when memory is fragmented; the returned pool says what it gave.
     *
     * @throws IllegalArgumentException for a node this host does not have or a negative count
     */
    public Pool reserve(HugepageSize size, int node, long pages) throws IOException {
        requireNode(node);
        if (pages < 0) {
            throw new IllegalArgumentException("cannot reserve " + pages + " hugepages: the count is 0 or more");
        }
        HugepageSysfs sysfs = sysfs(node);
        if (!sysfs.supported(size)) {
            throw new IOException(size + " hugepages are not available" + (node == ALL_NODES ? "" : " on node " + node)
                    + " (" + sysfs.directory(size) + " is missing)");
        }
        Path file = sysfs.nrHugepagesPath(size);
        tree.write(file, Long.toString(pages));
        return new Pool(size, node, sysfs.nrHugepages(size), sysfs.freeHugepages(size));
    }
}
