package io.dmadirect.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One JMH result: benchmark class and method, parameters, and the measurement iterations, summarised as
 * their median, with JMH's error (the half-width of its 99.9% confidence interval) and the range; and, when the
 * run had {@code -prof gc}, the bytes the JVM allocated per operation ({@code gc.alloc.rate.norm}), NaN without.
 */
public record JmhResult(String benchmarkClass, String method, Map<String, String> params, int threads, String unit,
        double median, double error, double min, double max, int samples, double bytesPerOp) {

    /** The secondary metric of {@code -prof gc} that gives bytes allocated per operation. */
    static final String ALLOC_NORM = "gc.alloc.rate.norm";

    /** Parses the array that {@code java -jar benchmarks.jar -rf json} writes. */
    public static List<JmhResult> parse(String json) {
        List<JmhResult> results = new ArrayList<>();
        for (JsonElement element : JsonParser.parseString(json).getAsJsonArray()) {
            JsonObject o = element.getAsJsonObject();
            String name = o.get("benchmark").getAsString();
            int dot = name.lastIndexOf('.');
            String owner = name.substring(0, dot);
            Map<String, String> params = new TreeMap<>();
            if (o.has("params")) {
                o.getAsJsonObject("params").entrySet().forEach(e -> params.put(e.getKey(), e.getValue().getAsString()));
            }
            JsonObject metric = o.getAsJsonObject("primaryMetric");
            double[] raw = rawData(metric);
            double error = metric.get("scoreError").isJsonPrimitive() && !"NaN".equals(metric.get("scoreError").getAsString())
                    ? metric.get("scoreError").getAsDouble() : Double.NaN;
            results.add(new JmhResult(owner.substring(owner.lastIndexOf('.') + 1), name.substring(dot + 1), params,
                    o.get("threads").getAsInt(), metric.get("scoreUnit").getAsString(), median(raw), error,
                    Arrays.stream(raw).min().orElse(Double.NaN), Arrays.stream(raw).max().orElse(Double.NaN), raw.length,
                    bytesPerOp(o)));
        }
        return results;
    }

    private static double bytesPerOp(JsonObject result) {
        if (!result.has("secondaryMetrics")) {
            return Double.NaN;
        }
        JsonObject secondary = result.getAsJsonObject("secondaryMetrics");
        return secondary.has(ALLOC_NORM) ? secondary.getAsJsonObject(ALLOC_NORM).get("score").getAsDouble() : Double.NaN;
    }

    private static double[] rawData(JsonObject metric) {
        List<Double> values = new ArrayList<>();
        if (metric.has("rawData")) {
            for (JsonElement fork : metric.getAsJsonArray("rawData")) {
                for (JsonElement v : (JsonArray) fork) {
                    values.add(v.getAsDouble());
                }
            }
        }
        if (values.isEmpty()) {
            values.add(metric.get("score").getAsDouble());
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The {@code size} parameter, or -1. */
    public long size() {
        String size = params.get("size");
        return size == null ? -1 : Long.parseLong(size);
    }

    /** Bytes allocated per operation, rounded to a byte ({@code -prof gc} averages over many operations); n/a without. */
    public String bytesCell() {
        return Double.isNaN(bytesPerOp) ? "n/a" : String.valueOf(Math.round(bytesPerOp));
    }

    /** {@code median ± error}, with a precision fit for the value. */
    public String cell() {
        return Double.isNaN(error) ? ReportFormat.number(median)
                : ReportFormat.number(median) + " ± " + ReportFormat.number(error);
    }
}
