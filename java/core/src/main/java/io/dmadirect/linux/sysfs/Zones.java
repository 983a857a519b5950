package io.dmadirect.linux.sysfs;

import java.util.ArrayList;
import java.util.List;

/**
 * Physical memory per NUMA node and zone, from /proc/zoneinfo: where each zone starts, how much it spans,
 * and how many pages the buddy allocator manages. Zones the kernel configured but left empty are kept
 * (DMA on a host without low memory shows 0 managed pages), since "no ZONE_DMA memory" is an answer.
 */
public final class Zones {
    /** One zone of one node as /proc/zoneinfo shows it (not {@code io.dmadirect.Zone}); pages of the base size. */
    public record ZoneInfo(int node, String name, long startPfn, long spannedPages, long presentPages,
            long managedPages) {
    }

    private Zones() {
    }

    public static List<ZoneInfo> read(HostTree tree) {
        return parse(tree.read("/proc/zoneinfo").orElse(""));
    }

    static List<ZoneInfo> parse(String zoneinfo) {
        List<ZoneInfo> zones = new ArrayList<>();
        int node = -1;
        String name = null;
        long start = 0;
        long spanned = 0;
        long present = 0;
        long managed = 0;
        for (String raw : zoneinfo.split("\n")) {
            String line = raw.trim();
            if (line.startsWith("Node ")) {
                if (name != null) {
                    zones.add(new ZoneInfo(node, name, start, spanned, present, managed));
                }
                String[] parts = line.split("[ ,]+");
                node = Integer.parseInt(parts[1]);
                name = parts[parts.length - 1];
                start = spanned = present = managed = 0;
            } else if (line.startsWith("spanned ")) {
                spanned = lastNumber(line);
            } else if (line.startsWith("present ")) {
                present = lastNumber(line);
            } else if (line.startsWith("managed ")) {
                managed = lastNumber(line);
            } else if (line.startsWith("start_pfn:")) {
                start = lastNumber(line);
            }
        }
        if (name != null) {
            zones.add(new ZoneInfo(node, name, start, spanned, present, managed));
        }
        return zones;
    }

    private static long lastNumber(String line) {
        String[] parts = line.split("\\s+");
        return Long.parseLong(parts[parts.length - 1]);
    }
}
