package io.dmadirect.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Turns the JSON of {@code java/bench/run-benchmarks.sh} into the generated section of
 * {@code docs/benchmarks.md} (tables of ratios against each anchor) and the plots in {@code docs/img/}.
 *
 * <pre>
 * java -jar docs/examples/target/bench-report.jar java/bench/target/jmh-result.json docs
 * </pre>
 *
 * The machine description is read from {@code <json>.machine}, which the script writes.
 */
public final class BenchReport {
    static final String ALLOC = "CoherentAllocBenchmark";
    static final String STREAM = "StreamingMapBenchmark";
    static final String THREADS = "ThreadScalingBenchmark";
    static final String HOST = "HostMemoryBenchmark";

    private final List<JmhResult> results;
    private final Map<String, String> machine;
    private final Path docs;

    BenchReport(List<JmhResult> results, Map<String, String> machine, Path docs) {
        this.results = results;
        this.machine = machine;
        this.docs = docs;
    }

    /** {@code BenchReport <jmh-result.json> <docs dir>}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java -jar bench-report.jar <jmh-result.json> <docs dir>");
            System.exit(2);
        }
        Path json = Path.of(args[0]);
        Path docs = Path.of(args[1]);
        BenchReport report = new BenchReport(JmhResult.parse(Files.readString(json)),
                machine(json.resolveSibling(json.getFileName() + ".machine")), docs);
        Path page = docs.resolve("benchmarks.md");
        String old = Files.exists(page) ? Files.readString(page) : "# Benchmarks\n";
        Files.writeString(page, GeneratedSection.merge(old, report.section()));
        System.out.println("bench-report: wrote " + page + " and " + docs.resolve("img"));
    }

    static Map<String, String> machine(Path file) throws IOException {
        Map<String, String> facts = new LinkedHashMap<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    facts.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        return facts;
    }

    /** The generated markdown; writes the plots as a side effect. */
    String section() throws IOException {
        Files.createDirectories(docs.resolve("img"));
        StringBuilder md = new StringBuilder();
        md.append("## One run of every benchmark (generated)\n\n");
        md.append("Command: `java/bench/run-benchmarks.sh` (all JMH benchmarks with their anchors in the same run, JSON in "
                + "`java/bench/target/jmh-result.json`), then this section and `docs/img/*.png` from "
                + "`java -jar docs/examples/target/bench-report.jar java/bench/target/jmh-result.json docs`.\n\n");
        md.append("Machine: ").append(machine.getOrDefault("cpu", "unknown CPU")).append(", ")
                .append(machine.getOrDefault("cores", "?")).append(" cores, kernel ")
                .append(machine.getOrDefault("kernel", "?")).append(", ").append(machine.getOrDefault("java", "?"))
                .append(", ").append(machine.getOrDefault("date", "")).append(". Load average before the run ")
                .append(machine.getOrDefault("load_before", "?")).append(", after ")
                .append(machine.getOrDefault("load_after", "?")).append(".\n\n");
        md.append("**The machine is shared**: other builds and a QEMU guest may run on the same 2 cores (the load averages"
                + " above say how busy it was; a 1-thread benchmark alone makes about 1). Each figure "
                + "is the **median** of the measurement iterations, ± JMH's error (half-width of its 99.9% confidence "
                + "interval around the mean; wide when the machine was busy). Ratios are of medians; treat "
                + "differences under about 20% as noise. One fork, 3×1 s warm-up, 5×1 s measurement, with `-prof gc`: "
                + "**B/op** is the bytes the JVM allocated per operation (`gc.alloc.rate.norm`), the garbage a hot loop "
                + "makes (n/a when the run had no `-prof gc`).\n\n");
        alloc(md);
        streaming(md);
        threads(md);
        host(md);
        agent(md);
        md.append("The kernel's nvme driver against ours is measured in the QEMU rig, not in this JMH run: see the "
                + "[NVMe section](#nvme-dmadirects-userspace-driver-against-the-linux-kernels-nvme-driver) below "
                + "(`test-rigs/hil/nvme-vs-kernel.sh`).\n\n");
        bytesPerOperation(md);
        all(md);
        return md.toString();
    }

    private List<JmhResult> of(String benchmarkClass) {
        return results.stream().filter(r -> r.benchmarkClass().equals(benchmarkClass)).toList();
    }

    private Optional<JmhResult> find(String benchmarkClass, String method, long size) {
        return of(benchmarkClass).stream().filter(r -> r.method().equals(method) && r.size() == size).findFirst();
    }

    private static TreeSet<Long> sizes(List<JmhResult> rs) {
        return rs.stream().map(JmhResult::size).collect(Collectors.toCollection(TreeSet::new));
    }

    private static double median(Optional<JmhResult> r) {
        return r.map(JmhResult::median).orElse(Double.NaN);
    }

    private static String cell(Optional<JmhResult> r) {
        return r.map(JmhResult::cell).orElse("n/a");
    }

    private static String bytes(Optional<JmhResult> r) {
        return r.map(JmhResult::bytesCell).orElse("n/a");
    }

    private void alloc(StringBuilder md) throws IOException {
        md.append("### Coherent allocation against Netty and allocateDirect\n\n");
        List<JmhResult> rs = of(ALLOC);
        if (rs.isEmpty()) {
            md.append("Not in this run.\n\n");
            return;
        }
        md.append("`CoherentAllocBenchmark`: ns per allocate/free pair on the simulated platform (lower is better). "
                + "`dmadirect` skips zeroing, as Netty does; `zeroed` zeroes as `dma_alloc_coherent()` must. "
                + "Ratios below 1 mean dmadirect is faster than the anchor. Targets (issue 18): dmadirect / Netty "
                + "**≤ 0.5×** at every size, and **≤ 48 B/op** (the one buffer the call returns).\n\n");
        md.append("| size | dmadirect | zeroed | Netty pooled | allocateDirect | dmadirect / Netty | zeroed / Netty "
                + "| dmadirect / allocateDirect | dmadirect B/op | Netty B/op |\n|---|---|---|---|---|---|---|---|---|---|\n");
        List<Charts.Line> lines = new ArrayList<>();
        String[][] methods = {{"dmadirect", "dmadirect (no zeroing)"}, {"dmadirectZeroed", "dmadirect zeroed"},
                {"nettyPooled", "Netty pooled (anchor)"}, {"allocateDirect", "allocateDirect + free (anchor)"}};
        for (long size : sizes(rs)) {
            Optional<JmhResult> d = find(ALLOC, "dmadirect", size);
            Optional<JmhResult> z = find(ALLOC, "dmadirectZeroed", size);
            Optional<JmhResult> n = find(ALLOC, "nettyPooled", size);
            Optional<JmhResult> a = find(ALLOC, "allocateDirect", size);
            md.append("| ").append(ReportFormat.size(size)).append(" | ").append(cell(d)).append(" | ").append(cell(z))
                    .append(" | ").append(cell(n)).append(" | ").append(cell(a)).append(" | **")
                    .append(ReportFormat.ratio(median(d) / median(n))).append("** | ")
                    .append(ReportFormat.ratio(median(z) / median(n))).append(" | ")
                    .append(ReportFormat.ratio(median(d) / median(a))).append(" | ").append(bytes(d)).append(" | ")
                    .append(bytes(n)).append(" |\n");
        }
        for (String[] m : methods) {
            lines.add(line(ALLOC, m[0], m[1], r -> r.median(), r -> r.error()));
        }
        Charts.save(docs.resolve("img/alloc-latency.png"), "Coherent allocate + free: latency against size",
                "size (bytes, log scale)", "ns per pair (median, log scale)", true, true, lines);
        md.append("\n![Allocation latency against size](img/alloc-latency.png)\n\n");
    }

    private void streaming(StringBuilder md) throws IOException {
        md.append("### Streaming map and bounce against a plain copy\n\n");
        List<JmhResult> rs = of(STREAM);
        if (rs.isEmpty()) {
            md.append("Not in this run.\n\n");
            return;
        }
        md.append("`StreamingMapBenchmark`: ns per map+unmap; bandwidth is size / time in GB/s (10^9 bytes). "
                + "`bounce TO_DEVICE` copies once into the bounce pool; `bounce FROM_DEVICE` copies at map and at "
                + "unmap, as the kernel does, so it moves twice the bytes. The anchor is a plain copy of the same "
                + "bytes between two direct buffers. Target: bounce close to copy bandwidth; direct map tens of ns.\n\n");
        md.append("| size | direct map+unmap | bounce TO_DEVICE | bounce FROM_DEVICE | plain copy | TO_DEVICE GB/s "
                + "| copy GB/s | TO_DEVICE / copy bandwidth |\n|---|---|---|---|---|---|---|---|\n");
        for (long size : sizes(rs)) {
            Optional<JmhResult> direct = find(STREAM, "directMapUnmap", size);
            Optional<JmhResult> to = find(STREAM, "bounceToDevice", size);
            Optional<JmhResult> from = find(STREAM, "bounceFromDevice", size);
            Optional<JmhResult> copy = find(STREAM, "anchorCopy", size);
            double toBw = size / median(to);
            double copyBw = size / median(copy);
            md.append("| ").append(ReportFormat.size(size)).append(" | ").append(cell(direct)).append(" | ")
                    .append(cell(to)).append(" | ").append(cell(from)).append(" | ").append(cell(copy)).append(" | ")
                    .append(ReportFormat.number(toBw)).append(" | ").append(ReportFormat.number(copyBw)).append(" | **")
                    .append(ReportFormat.ratio(toBw / copyBw)).append("** |\n");
        }
        List<Charts.Line> lines = List.of(
                line(STREAM, "bounceToDevice", "bounce TO_DEVICE (1 copy)", r -> r.size() / r.median(),
                        r -> bandwidthError(r, 1)),
                line(STREAM, "bounceFromDevice", "bounce FROM_DEVICE (2 copies, bytes moved)",
                        r -> 2 * r.size() / r.median(), r -> bandwidthError(r, 2)),
                line(STREAM, "anchorCopy", "plain copy (anchor)", r -> r.size() / r.median(), r -> bandwidthError(r, 1)));
        Charts.save(docs.resolve("img/bounce-bandwidth.png"), "Bounce buffering: bandwidth against size",
                "mapping size (bytes, log scale)", "GB/s (median)", true, false, lines);
        md.append("\n![Bounce bandwidth against size](img/bounce-bandwidth.png)\n\n");
    }

    private static double bandwidthError(JmhResult r, int copies) {
        if (Double.isNaN(r.error())) {
            return 0;
        }
        double t = r.median();
        return copies * r.size() * r.error() / (t * t);
    }

    private void threads(StringBuilder md) throws IOException {
        md.append("### Scaling with threads\n\n");
        List<JmhResult> rs = of(THREADS);
        if (rs.isEmpty()) {
            md.append("Not in this run.\n\n");
            return;
        }
        md.append("`ThreadScalingBenchmark`: total allocate/free pairs per µs of 4 KiB (higher is better), one "
                + "device or one Netty allocator shared by all threads. The machine has 2 cores shared with other "
                + "work, so 2 threads can at best double the 1-thread figure. Target: scales, no global lock.\n\n");
        md.append("| threads | dmadirect ops/µs | Netty pooled ops/µs | dmadirect / Netty |\n|---|---|---|---|\n");
        List<Charts.Line> lines = new ArrayList<>();
        for (String[] who : new String[][] {{"dmadirectThreads", "dmadirect"}, {"nettyPooledThreads", "Netty pooled (anchor)"}}) {
            List<JmhResult> points = rs.stream().filter(r -> r.method().startsWith(who[0]))
                    .sorted((a, b) -> Integer.compare(a.threads(), b.threads())).toList();
            lines.add(new Charts.Line(who[1], points.stream().mapToDouble(JmhResult::threads).toArray(),
                    points.stream().mapToDouble(JmhResult::median).toArray(),
                    points.stream().mapToDouble(r -> Double.isNaN(r.error()) ? 0 : r.error()).toArray()));
        }
        for (int t : rs.stream().map(JmhResult::threads).collect(Collectors.toCollection(TreeSet::new))) {
            Optional<JmhResult> d = rs.stream().filter(r -> r.method().equals("dmadirectThreads" + t)).findFirst();
            Optional<JmhResult> n = rs.stream().filter(r -> r.method().equals("nettyPooledThreads" + t)).findFirst();
            md.append("| ").append(t).append(" | ").append(cell(d)).append(" | ").append(cell(n)).append(" | **")
                    .append(ReportFormat.ratio(median(d) / median(n))).append("** |\n");
        }
        Charts.save(docs.resolve("img/thread-scaling.png"), "Allocate + free of 4 KiB: throughput against threads",
                "threads", "ops per µs, all threads (median)", false, false, lines);
        md.append("\n![Scaling with threads](img/thread-scaling.png)\n\n");
    }

    private void host(StringBuilder md) {
        md.append("### Translation and start on real hugepages\n\n");
        List<JmhResult> rs = of(HOST);
        if (rs.isEmpty()) {
            md.append("Not in this run (HostMemoryBenchmark needs root and 2 MiB hugepages).\n\n");
            return;
        }
        md.append("`HostMemoryBenchmark` (root): ns per virtual-to-DMA translation, and ns per 2 MiB page to open "
                + "and close a platform. Anchors: one flat Java `long[]` indexed by hugepage over the same memory (the "
                + "least a lookup costs in Java), a pagemap read (through `Pagemap`, and a bare `pread`), and an "
                + "`mmap(MAP_HUGETLB)` + touch + `mlock` + `munmap` of the same pages. Targets (issue 18): translation "
                + "≤ 5 ns and close to the flat table; start **≤ 1.1×** mmap+touch+mlock.\n\n");
        md.append("| what | dmadirect | anchor | anchor | dmadirect / anchor | dmadirect B/op |\n|---|---|---|---|---|---|\n");
        Optional<JmhResult> table = find(HOST, "translateTable", -1);
        Optional<JmhResult> flat = find(HOST, "translateFlatTable", -1);
        Optional<JmhResult> pagemap = find(HOST, "translatePagemap", -1);
        Optional<JmhResult> pread = find(HOST, "translatePagemapRawPread", -1);
        md.append("| translation (ns) | table: ").append(cell(table)).append(" | flat table: ").append(cell(flat))
                .append(" | raw pread: ").append(cell(pread)).append(" | **")
                .append(ReportFormat.ratio(median(table) / median(flat))).append("** of the flat table, ")
                .append(ReportFormat.ratio(median(table) / median(pread))).append(" of a raw pread (Pagemap: ")
                .append(cell(pagemap)).append(") | ").append(bytes(table)).append(" |\n");
        Optional<JmhResult> start = find(HOST, "startPlatform", -1);
        Optional<JmhResult> raw = find(HOST, "startRawMmapTouchMlock", -1);
        md.append("| start (ns per 2 MiB page) | ").append(cell(start)).append(" | mmap+touch+mlock: ")
                .append(cell(raw)).append(" | | **").append(ReportFormat.ratio(median(start) / median(raw)))
                .append("** | ").append(bytes(start)).append(" |\n\n");
    }

    private void agent(StringBuilder md) {
        md.append("### Agent overhead in this run\n\n");
        // AgentOverheadBenchmark's subclasses (Bare, Trace, Debug, DebugPoison), one per -javaagent: each names its mode in "agent".
        List<JmhResult> rs = results.stream().filter(r -> r.params().containsKey("agent")).toList();
        if (rs.isEmpty()) {
            md.append("Not in this run.\n\n");
            return;
        }
        md.append("`AgentOverheadBenchmark`, ns per operation, ratio to `none` (no agent) of the same operation and "
                + "size in this run. The analysis and targets are in the hand-written \"Agent overhead\" section below.\n\n");
        TreeSet<Long> sizes = sizes(rs);
        md.append("| operation | agent |");
        sizes.forEach(s -> md.append(' ').append(ReportFormat.size(s)).append(" | ratio |"));
        md.append("\n|---|---|").append("---|---|".repeat(sizes.size())).append('\n');
        List<String> agents = rs.stream().map(r -> r.params().get("agent")).distinct().toList();
        List<String> methods = rs.stream().map(JmhResult::method).distinct().toList();
        for (String method : methods) {
            for (String agent : agents) {
                md.append("| `").append(method).append("` | ").append(agent).append(" |");
                for (long size : sizes) {
                    Optional<JmhResult> r = agentResult(rs, method, agent, size);
                    Optional<JmhResult> none = agentResult(rs, method, "none", size);
                    md.append(' ').append(cell(r)).append(" | ").append(ReportFormat.ratio(median(r) / median(none)))
                            .append(" |");
                }
                md.append('\n');
            }
        }
        md.append('\n');
    }

    private static Optional<JmhResult> agentResult(List<JmhResult> rs, String method, String agent, long size) {
        return rs.stream().filter(x -> x.method().equals(method) && agent.equals(x.params().get("agent"))
                && x.size() == size).findFirst();
    }

    /**
     * Bytes allocated per operation of every benchmark in the run, one row per benchmark method and one column per
     * size (or the only value when it has no size): the garbage each hot path makes, beside its time above.
     */
    private void bytesPerOperation(StringBuilder md) {
        md.append("### Bytes allocated per operation\n\n");
        if (results.stream().allMatch(r -> Double.isNaN(r.bytesPerOp()))) {
            md.append("Not in this run (run JMH with `-prof gc`, as `run-benchmarks.sh` does).\n\n");
            return;
        }
        TreeSet<Long> sizes = sizes(results);
        md.append("`gc.alloc.rate.norm` of `-prof gc`, B per operation, for every benchmark of the run (a parameter "
                + "other than the size, such as the agent mode, and the thread count are named with the method). "
                + "Target (issue 18): the coherent allocation ≤ 48 B, the one buffer it returns.\n\n| benchmark |");
        sizes.forEach(s -> md.append(' ').append(s < 0 ? "—" : ReportFormat.size(s)).append(" |"));
        md.append("\n|---|").append("---|".repeat(sizes.size())).append('\n');
        Map<String, Map<Long, JmhResult>> rows = new LinkedHashMap<>();
        for (JmhResult r : results) {
            rows.computeIfAbsent(rowName(r), k -> new LinkedHashMap<>()).put(r.size(), r);
        }
        rows.forEach((name, bySize) -> {
            md.append("| ").append(name).append(" |");
            sizes.forEach(s -> md.append(' ').append(bytes(Optional.ofNullable(bySize.get(s)))).append(" |"));
            md.append('\n');
        });
        md.append('\n');
    }

    private static String rowName(JmhResult r) {
        Map<String, String> others = new java.util.TreeMap<>(r.params());
        others.remove("size");
        return r.benchmarkClass() + "." + r.method() + (others.isEmpty() ? "" : " " + others)
                + (r.threads() == 1 ? "" : " (" + r.threads() + " threads)");
    }

    private void all(StringBuilder md) {
        md.append("<details><summary>Every result of the run (median, ± JMH error, min–max of the iterations, bytes "
                + "allocated per operation)</summary>\n\n| benchmark | params | threads | median ± error | min–max | unit "
                + "| B/op |\n|---|---|---|---|---|---|---|\n");
        for (JmhResult r : results) {
            md.append("| ").append(r.benchmarkClass()).append('.').append(r.method()).append(" | ")
                    .append(r.params().isEmpty() ? "" : r.params().toString()).append(" | ").append(r.threads())
                    .append(" | ").append(r.cell()).append(" | ").append(ReportFormat.number(r.min())).append('–')
                    .append(ReportFormat.number(r.max())).append(" | ").append(r.unit()).append(" | ")
                    .append(r.bytesCell()).append(" |\n");
        }
        md.append("\n</details>\n");
    }

    private Charts.Line line(String benchmarkClass, String method, String name,
            java.util.function.ToDoubleFunction<JmhResult> y, java.util.function.ToDoubleFunction<JmhResult> error) {
        List<JmhResult> points = of(benchmarkClass).stream().filter(r -> r.method().equals(method))
                .sorted((a, b) -> Long.compare(a.size(), b.size())).toList();
        return new Charts.Line(name, points.stream().mapToDouble(JmhResult::size).toArray(),
                points.stream().mapToDouble(y).toArray(),
                points.stream().mapToDouble(r -> Double.isNaN(error.applyAsDouble(r)) ? 0 : error.applyAsDouble(r)).toArray());
    }
}
