package io.dmadirect.cli;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.sysfs.HugepagePools;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmadirect hugepages}: show the pools, or reserve pages in one. */
@Command(name = "hugepages", mixinStandardHelpOptions = true,
        description = "Show hugepage pools per size and NUMA node (--show, the default), or reserve pages "
                + "(--reserve N [--size 2M|1G] [--node K]); reserving needs root.")
public final class HugepagesCommand implements Callable<Integer> {

    static final class Action {
        @Option(names = "--show", description = "Show the pools (default).")
        boolean show;

        @Option(names = "--reserve", paramLabel = "N", description = "Set the pool to N pages.")
        Long reserve;
    }

    @ArgGroup(exclusive = true)
    Action action;

    @Option(names = "--size", defaultValue = "2M", description = "2M or 1G (default ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--node", paramLabel = "K", description = "NUMA node K only: show its pools, or reserve on it "
            + "(default: every node shown; a reservation the kernel spreads over all nodes).")
    Integer node;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    PrintStream out = System.out;
    PrintStream err = System.err;

    /** One row per pool, as both {@code hugepages} and {@code info} print them. */
    static List<Map<String, Object>> rows(HugepagePools pools) {
        return rows(pools.pools());
    }

    /** The given pools as rows. */
    static List<Map<String, Object>> rows(List<HugepagePools.Pool> pools) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (HugepagePools.Pool p : pools) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("size", p.size().toString());
            m.put("node", p.node() == HugepagePools.ALL_NODES ? "all" : Integer.toString(p.node()));
            m.put("total", p.total());
            m.put("free", p.free());
            rows.add(m);
        }
        return rows;
    }

    @Override
    public Integer call() {
        HugepagePools pools = new HugepagePools(Host.tree());
        int n = node == null ? HugepagePools.ALL_NODES : node;
        try {
            // issue 21: a node that does not exist (or a negative one, which is not "all nodes") is named as such
            if (node != null && node < 0) {
                throw new IllegalArgumentException("--node " + node + ": a NUMA node is 0 or more (leave --node out "
                        + "for all nodes)");
            }
            pools.requireNode(n);
        } catch (IllegalArgumentException e) {
            err.println("dmadirect hugepages: " + e.getMessage());
            return 2;
        }
        if (action != null && action.reserve != null) {
            HugepageSize pageSize = Host.parseSize(size);
            if (action.reserve < 0) {
                err.println("dmadirect hugepages: --reserve " + action.reserve + ": the number of pages is 0 or more");
                return 2;
            }
            try {
                HugepagePools.Pool got = pools.reserve(pageSize, n, action.reserve);
                out.println(pageSize + (n < 0 ? "" : " on node " + n) + ": " + got.total() + " reserved, " + got.free()
                        + " free" + (got.total() < action.reserve ? " (asked for " + action.reserve
                        + "; memory is fragmented: reserve at boot with hugepages=" + action.reserve + ")" : ""));
                return got.total() < action.reserve ? 1 : 0;
            } catch (IOException e) {
                err.println("dmadirect hugepages: failed to reserve " + action.reserve + " pages of " + pageSize + ": "
                        + e.getMessage() + (e instanceof java.nio.file.AccessDeniedException ? "; run as root" : ""));
                return 1;
            }
        }
        List<Map<String, Object>> rows = node == null ? rows(pools) : rows(pools.pools(n));
        if (json) {
            out.println(Json.of(rows));
        } else {
            out.printf("%-8s %-5s %10s %10s%n", "size", "node", "total", "free");
            rows.forEach(r -> out.printf("%-8s %-5s %10d %10d%n", r.get("size"), r.get("node"), r.get("total"), r.get("free")));
        }
        return 0;
    }
}
