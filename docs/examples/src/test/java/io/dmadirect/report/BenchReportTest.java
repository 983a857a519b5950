package io.dmadirect.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report keeps hand-written sections, summarises by the median, and draws its plots. */
class BenchReportTest {

    @Test
    void theGeneratedSectionIsReplacedAndEverythingElseKept() {
        String page = "# Benchmarks\n\nIntro.\n\n## Agent overhead\n\nhand-written 45.1\n\n## NVMe\n\nhand 123\n";
        String once = GeneratedSection.merge(page, "first");
        assertTrue(once.indexOf("first") < once.indexOf("## Agent overhead"), once);
        String twice = GeneratedSection.merge(once, "second");
        assertTrue(twice.contains("second") && !twice.contains("first"), twice);
        assertEquals(page.replace("## Agent", "MARK## Agent"),
                twice.replaceAll("(?s)<!-- generated:begin.*?generated:end -->\\n\\n", "MARK"));
    }

    @Test
    void resultsAreSummarisedByTheirMedian() {
        List<JmhResult> results = JmhResult.parse("[" + json("CoherentAllocBenchmark", "dmadirect", 64, "[[10, 30, 11, 12, 13]]") + "]");
        assertEquals(12.0, results.get(0).median());
        assertEquals(10.0, results.get(0).min());
        assertEquals(30.0, results.get(0).max());
    }

    @Test
    void theReportHasRatiosAndPlots(@TempDir Path docs) throws IOException {
        StringBuilder all = new StringBuilder("[");
        for (long size : new long[] {64, 4096}) {
            all.append(json("CoherentAllocBenchmark", "dmadirect", size, "[[20, 21, 22]]")).append(',');
            all.append(json("CoherentAllocBenchmark", "nettyPooled", size, "[[40, 41, 42]]")).append(',');
            all.append(json("StreamingMapBenchmark", "bounceToDevice", size, "[[100, 100, 100]]")).append(',');
            all.append(json("StreamingMapBenchmark", "anchorCopy", size, "[[50, 50, 50]]")).append(',');
        }
        all.setLength(all.length() - 1);
        BenchReport report = new BenchReport(JmhResult.parse(all.append(']').toString()), Map.of("cpu", "test CPU"),
                docs);
        String md = report.section();
        assertTrue(md.contains("**0.51×**"), md);   // 21 / 41
        assertTrue(md.contains("**0.50×**"), md);   // bounce at half the copy bandwidth
        assertTrue(md.contains("test CPU"), md);
        assertTrue(Files.size(docs.resolve("img/alloc-latency.png")) > 1000);
        assertTrue(Files.size(docs.resolve("img/bounce-bandwidth.png")) > 1000);
    }

    @Test
    void bytesPerOperationComeFromProfGcAndAreShownForEveryBenchmark(@TempDir Path docs) throws IOException {
        String withGc = json("CoherentAllocBenchmark", "dmadirect", 64, "[[20, 21, 22]]").replaceFirst("}$",
                ",\"secondaryMetrics\":{\"gc.alloc.rate.norm\":{\"score\":48.002,\"scoreUnit\":\"B/op\"}}}");
        String withoutGc = json("CoherentAllocBenchmark", "nettyPooled", 64, "[[40, 41, 42]]");
        List<JmhResult> results = JmhResult.parse("[" + withGc + "," + withoutGc + "]");
        assertEquals(48.002, results.get(0).bytesPerOp(), 1e-9);
        assertTrue(Double.isNaN(results.get(1).bytesPerOp()));
        String md = new BenchReport(results, Map.of(), docs).section();
        assertTrue(md.contains("### Bytes allocated per operation"), md);
        assertTrue(md.contains("| CoherentAllocBenchmark.dmadirect | 48 |"), md);
        assertTrue(md.contains("| CoherentAllocBenchmark.nettyPooled | n/a |"), md);
    }

    private static String json(String owner, String method, long size, String raw) {
        return "{\"benchmark\":\"io.dmadirect.bench." + owner + "." + method + "\",\"mode\":\"avgt\",\"threads\":1,"
                + "\"params\":{\"size\":\"" + size + "\"},\"primaryMetric\":{\"score\":1,\"scoreError\":0.5,"
                + "\"scoreUnit\":\"ns/op\",\"rawData\":" + raw + "}}";
    }
}
