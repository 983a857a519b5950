package io.dmadirect.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 14: under DMADIRECT_REQUIRE_HOST=1 and DMADIRECT_REQUIRE_RIG=1 no test may skip, so a test skips only
 * through the one requirement helper of its kind, which fails instead when the flag is set:
 * {@link HostRequirement} (host tests of every module; java/cli uses it through core's test-jar) and the HIL
 * suite's {@code Rig.requireRig}/{@code Rig.require}. This scans the test sources of every module of the
 * repository (java/*, agent, test-rigs/hil, docs/examples) for the other ways ({@link BareAssumptions}).
 * A source scan rather than ArchUnit: one test covers all modules, including the HIL suite that Maven
 * never runs, without each module depending on the others' test classes, and it sees the annotations
 * and a thrown TestAbortedException as well as calls.
 */
class NoBareAssumptionsTest {
    /** The requirement helpers, relative to the repository root: the only files allowed to skip. */
    private static final Set<String> HELPERS = Set.of(
            "java/core/src/test/java/io/dmadirect/linux/HostRequirement.java",
            "test-rigs/hil/src/test/java/io/dmadirect/hil/Rig.java");

    @Test
    void noTestSkipsOutsideTheRequirementHelpers() throws IOException {
        Path root = repositoryRoot();
        List<Path> sources = testSources(root);
        assertTrue(sources.stream().anyMatch(p -> p.startsWith(root.resolve("test-rigs/hil")))
                && sources.stream().anyMatch(p -> p.startsWith(root.resolve("java/cli"))),
                "the scan must see every module's tests; found " + sources.size() + " files under " + root);
        for (String helper : HELPERS) {
            assertTrue(Files.isRegularFile(root.resolve(helper)), "the helper " + helper + " moved: update HELPERS");
        }
        List<String> bare = new ArrayList<>();
        for (Path source : sources) {
            String relative = root.relativize(source).toString().replace('\\', '/');
            if (HELPERS.contains(relative)) {
                continue;
            }
            for (String finding : BareAssumptions.in(Files.readString(source))) {
                bare.add(relative + " " + finding);
            }
        }
        if (!bare.isEmpty()) {
            fail("tests that skip past the requirement helpers (use HostRequirement.require, or Rig.require in the"
                    + " HIL suite, which fail under DMADIRECT_REQUIRE_HOST/RIG=1):\n  " + String.join("\n  ", bare));
        }
    }

    @Test
    void theScanFindsEachWayToSkipAndIgnoresProse() {
        String planted = String.join("\n",
                "import static org.junit.jupiter.api.Assumptions.assumeTrue;",
                "@EnabledIfEnvironmentVariable(named = \"X\", matches = \"1\")",
                "class T {",
                "  @Disabled(\"later\") @Test void a() { assumeFalse(x); }",
                "  @DisabledOnOs(OS.MAC) @Test void b() { org.junit.Assume.assumeTrue(y); }",
                "  void c() { Assumptions.assumingThat(z, () -> {}); throw new TestAbortedException(); }",
                "  // assumeTrue(in a comment) @Disabled",
                "  /* Assumptions in a block comment */ String s = \"assumeTrue(x) @Disabled\";",
                "  void d() { Assume.that(n > 0); }",  // jqwik: rejects a try, allowed
                "}");
        List<String> found = BareAssumptions.in(planted);
        assertEquals(List.of("line 1: Assumptions", "line 2: @EnabledIfEnvironmentVariable", "line 4: @Disabled",
                "line 4: assumeFalse(", "line 5: @DisabledOnOs", "line 5: org.junit.Assume",
                "line 5: assumeTrue(", "line 6: Assumptions", "line 6: assumingThat(", "line 6: TestAbortedException"),
                found);
    }

    private static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("run-tests")) && Files.isDirectory(dir.resolve("test-rigs"))) {
                return dir;
            }
        }
        throw new AssertionError("no repository root (run-tests, test-rigs/) above " + Path.of("").toAbsolutePath());
    }

    private static List<Path> testSources(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> root.relativize(p).toString().replace('\\', '/').contains("src/test/"))
                    .filter(p -> !root.relativize(p).toString().replace('\\', '/').matches("(.*/)?(target|\\.git)/.*"))
                    .sorted().toList();
        }
    }
}
