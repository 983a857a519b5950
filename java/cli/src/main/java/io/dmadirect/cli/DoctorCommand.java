package io.dmadirect.cli;

import io.dmadirect.Sizes;
import io.dmadirect.cli.system.Check;
import io.dmadirect.cli.system.HostChecks;
import io.dmadirect.linux.sysfs.HostTree;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmadirect doctor}: each setup step that DPDK and SPDK users stumble on, with the fix. Exit 1 on FAIL. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check the IOMMU, IOMMU groups, IOVA width, hugepages, hugetlbfs, RLIMIT_MEMLOCK, /dev/vfio "
                + "permissions, iommufd and no-IOMMU mode; print PASS, WARN or FAIL with the exact remedy. "
                + "Exit code 0 when nothing FAILs, 1 when a check fails.")
public final class DoctorCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Option(names = "--device", paramLabel = "ADDRESS", description = "Check this PCI device (e.g. 0000:00:04.0) "
            + "in particular: its group, and its IOMMU's width.")
    String device;

    @Option(names = "--mask-bits", paramLabel = "N", description = "The DMA mask the device's driver sets, "
            + "to compare with the IOMMU's address width.")
    int maskBits;

    @Option(names = "--memlock", paramLabel = "SIZE", defaultValue = "64M",
            description = "Memory the driver will pin, for the RLIMIT_MEMLOCK check (default ${DEFAULT-VALUE}).")
    String memlock;

    PrintStream out = System.out;

    @Override
    public Integer call() {
        HostTree tree = Host.tree();
        HostChecks.Inputs inputs = new HostChecks.Inputs(Host.memlock(), Host.capabilities(), Host.uid(tree),
                Host.highestRam(tree), device, maskBits, parseSize(memlock));
        List<Check> checks = new HostChecks(tree, inputs).run();
        boolean failed = checks.stream().anyMatch(c -> c.verdict() == Check.Verdict.FAIL);
        if (json) {
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("ok", !failed);
            report.put("checks", checks);
            out.println(Json.of(report));
        } else {
            for (Check c : checks) {
                out.printf("%-4s  %-17s %s%n", c.verdict(), c.name(), c.finding());
                if (c.remedy() != null) {
                    out.printf("      %-17s fix: %s%n", "", c.remedy());
                }
            }
        }
        return failed ? 1 : 0;
    }

    /** "64M", "1G", "4096": bytes. */
    static long parseSize(String text) {
        String t = text.trim().toUpperCase(java.util.Locale.ROOT).replace("IB", "").replace("B", "");
        long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'K' -> Sizes.KiB;
            case 'M' -> Sizes.MiB;
            case 'G' -> Sizes.GiB;
            default -> 1;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        return Math.multiplyExact(Long.parseLong(digits), unit);
    }
}
