package io.dmadirect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public API (package {@code io.dmadirect}) passes {@code javadoc -Xdoclint:all}: every public type
 * and member has a comment, every parameter and return value is described, and nothing is malformed.
 */
class ApiJavadocTest {
    private static final Path API = Path.of(System.getProperty("dmadirect.docs", "docs"))
            .resolve("../java/core/src/main/java/io/dmadirect");

    @Test
    void theApiPackagePassesDoclint(@TempDir Path out) throws IOException {
        List<Path> sources;
        try (Stream<Path> files = Files.list(API)) {
            sources = files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
        assertTrue(sources.size() > 10, "no API sources under " + API);
        DocumentationTool javadoc = ToolProvider.getSystemDocumentationTool();
        StringWriter report = new StringWriter();
        try (StandardJavaFileManager files = javadoc.getStandardFileManager(null, null, null)) {
            Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
            List<String> options = List.of("-quiet", "-Xdoclint:all", "-Xmaxwarns", "10000", "-d", out.toString(),
                    "-cp", System.getProperty("java.class.path"));
            javadoc.getTask(report, files, null, null, options, units).call();
        }
        List<String> problems = report.toString().lines()
                .filter(l -> l.contains(": warning:") || l.contains(": error:")).toList();
        assertEquals(List.of(), problems, "javadoc -Xdoclint:all on io.dmadirect");
    }
}
