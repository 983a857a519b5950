package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading what the agent wrote: a number of its JSON report at exit, and the entries of its live DMA map
 * (the dump that {@code dmadirect agent attach} prints). The HIL module has no JSON library, and these
 * are the few fields the tests judge, so they are read with patterns.
 */
final class AgentReport {
    /** {@code <device> coherent idx <zone> dma_addr=0x.. size=N ...} or {@code <device> single dma_addr=0x.. size=N ...}. */
    private static final Pattern ENTRY = Pattern.compile(
            "^(\\S+) (coherent idx \\S+|single|scatter-gather) dma_addr=0x([0-9a-f]+) size=(\\d+)(.*)$");

    /** One line of the live DMA map. */
    record Entry(String device, String kind, long dmaAddress, long size, String rest, String line) {
        boolean coherent() {
            return kind.startsWith("coherent");
        }

        long last() {
            return dmaAddress + size - 1;
        }
    }

    private AgentReport() {
    }

    /** The entries of a dump; other lines (the header, the attach's own messages) are skipped. */
    static List<Entry> entries(String dump) {
        List<Entry> entries = new ArrayList<>();
        for (String line : dump.lines().toList()) {
            Matcher m = ENTRY.matcher(line);
            if (m.matches()) {
                entries.add(new Entry(m.group(1), m.group(2), Long.parseUnsignedLong(m.group(3), 16),
                        Long.parseLong(m.group(4)), m.group(5).trim(), line));
            }
        }
        return entries;
    }

    /** A top-level whole number of the JSON report, e.g. {@code "errors":0}. */
    static long number(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(\\d+)").matcher(json);
        if (!m.find()) {
            fail("no \"" + key + "\" in the agent's JSON report:\n" + json);
        }
        return Long.parseLong(m.group(1));
    }
}
