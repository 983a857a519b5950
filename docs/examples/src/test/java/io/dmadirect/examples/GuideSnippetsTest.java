package io.dmadirect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Java block of docs/guide.md is a region of a compiled example. A block is marked by the line
 * {@code <!-- example: File.java#region -->} right before its fence. With {@code -Ddmadirect.docs.fix=true}
 * the test rewrites the guide's blocks from the sources instead of failing.
 */
class GuideSnippetsTest {
    private static final Path DOCS = Path.of(System.getProperty("dmadirect.docs", "docs"));
    private static final Path SOURCES = DOCS.resolve("examples/src/main/java/io/dmadirect/examples");
    private static final Pattern MARKER = Pattern.compile(
            "<!-- example: (\\w+\\.java)#([\\w-]+) -->\\n```java\\n(.*?)```\\n", Pattern.DOTALL);

    @Test
    void everyGuideBlockIsTheRegionItNames() throws IOException {
        Path guide = DOCS.resolve("guide.md");
        String text = Files.readString(guide);
        Matcher m = MARKER.matcher(text);
        StringBuilder fixed = new StringBuilder();
        List<String> stale = new ArrayList<>();
        int blocks = 0;
        while (m.find()) {
            blocks++;
            String expected = region(m.group(1), m.group(2));
            if (!expected.equals(m.group(3))) {
                stale.add(m.group(1) + "#" + m.group(2) + " should read:\n" + expected);
            }
            m.appendReplacement(fixed, Matcher.quoteReplacement(
                    "<!-- example: " + m.group(1) + "#" + m.group(2) + " -->\n```java\n" + expected + "```\n"));
        }
        m.appendTail(fixed);
        assertTrue(blocks > 0, "no marked example in " + guide);
        if (!stale.isEmpty() && Boolean.getBoolean("dmadirect.docs.fix")) {
            Files.writeString(guide, fixed.toString());
            return;
        }
        assertEquals(List.of(), stale, "docs/guide.md differs from the compiled examples "
                + "(run the test with -Ddmadirect.docs.fix=true to rewrite the guide)");
    }

    @Test
    void everyJavaBlockOfTheGuideIsMarked() throws IOException {
        String text = Files.readString(DOCS.resolve("guide.md"));
        int fences = text.split("```java\n", -1).length - 1;
        int marked = MARKER.matcher(text).results().mapToInt(r -> 1).sum();
        assertEquals(fences, marked, "a ```java block of the guide has no <!-- example: File.java#region --> line");
    }

    @Test
    void everyRegionIsShownInTheGuide() throws IOException {
        String text = Files.readString(DOCS.resolve("guide.md"));
        TreeSet<String> unused = new TreeSet<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Matcher r = Pattern.compile("(?m)^\\s*// region:([\\w-]+)\\s*$").matcher(Files.readString(file));
                while (r.find()) {
                    String name = file.getFileName() + "#" + r.group(1);
                    if (!text.contains("<!-- example: " + name + " -->")) {
                        unused.add(name);
                    }
                }
            }
        }
        assertEquals(new TreeSet<>(), unused, "regions that the guide does not show");
    }

    /** The lines between the region's markers, with their common indentation removed. */
    static String region(String file, String name) throws IOException {
        List<String> lines = Files.readAllLines(SOURCES.resolve(file));
        int begin = -1;
        int end = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.equals("// region:" + name)) {
                begin = i + 1;
            } else if (line.equals("// endregion:" + name)) {
                end = i;
            }
        }
        assertTrue(begin > 0 && end >= begin, "no region " + name + " in " + file);
        List<String> body = lines.subList(begin, end);
        int indent = body.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder out = new StringBuilder();
        for (String line : body) {
            out.append(line.isBlank() ? "" : line.substring(indent)).append('\n');
        }
        return out.toString();
    }
}
