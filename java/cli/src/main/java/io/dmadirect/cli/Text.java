package io.dmadirect.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** The text form of a command's facts: the same nested map as the JSON, indented, one fact a line. */
final class Text {
    private Text() {
    }

    static void print(PrintStream out, Map<String, ?> map, int indent) {
        String pad = "  ".repeat(indent);
        for (Map.Entry<String, ?> e : map.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Map<?, ?> m) {
                out.println(pad + e.getKey() + ":");
                print(out, cast(m), indent + 1);
            } else if (v instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map) {
                out.println(pad + e.getKey() + ":");
                for (Object row : list) {
                    out.println(pad + "  - " + line(cast((Map<?, ?>) row)));
                }
            } else if (v instanceof List<?> list) {
                out.println(pad + e.getKey() + ": " + (list.isEmpty() ? "none" : String.join(", ", list.stream()
                        .map(String::valueOf).toList())));
            } else {
                out.println(pad + e.getKey() + ": " + (v == null ? "unknown" : v));
            }
        }
    }

    private static String line(Map<String, ?> row) {
        StringBuilder b = new StringBuilder();
        row.forEach((k, v) -> b.append(b.length() == 0 ? "" : "  ").append(k).append('=').append(v == null ? "-" : v));
        return b.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> cast(Map<?, ?> m) {
        return (Map<String, ?>) m;
    }
}
