package io.dmadirect.cli;

import static io.dmadirect.cli.HostCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.dmadirect.linux.HostRequirement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 21, on this host: {@code dmadirect hugepages --node N} shows that node's pools as sysfs has them, and a node
 * that does not exist (or a negative one, or a negative count) is a usage error naming what was wrong, with nothing
 * written. Node 0 exists on every Linux host with sysfs; DMADIRECT_REQUIRE_HOST=1 fails rather than skips without it.
 */
class HugepagesNodeTest {
    private static final Path NODE0 = Path.of("/sys/devices/system/node/node0/hugepages");

    @Test
    void showNodeZeroPrintsNodeZerosPoolsAsSysfsHasThem() throws IOException {
        HostRequirement.require(Files.isDirectory(NODE0), NODE0 + " is missing (no NUMA sysfs)");
        HostCommandsTest.Run r = run("hugepages", "--show", "--node", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonArray rows = JsonParser.parseString(r.out()).getAsJsonArray();
        Set<String> sizeDirs = new HashSet<>();
        try (Stream<Path> dirs = Files.list(NODE0)) {
            dirs.forEach(d -> sizeDirs.add(d.getFileName().toString()));
        }
        assertEquals(sizeDirs.size(), rows.size(), "one row per size directory of " + NODE0 + ": " + r.out());
        for (JsonElement e : rows) {
            JsonObject row = e.getAsJsonObject();
            assertEquals("0", row.get("node").getAsString(), r.out());
            String dir = row.get("size").getAsString().equals("1G") ? "hugepages-1048576kB" : "hugepages-2048kB";
            assertTrue(sizeDirs.contains(dir), dir + " for " + row);
            // The counts can move between the two reads only if something reserves meanwhile; the free count too.
            assertEquals(Long.parseLong(Files.readString(NODE0.resolve(dir).resolve("nr_hugepages")).trim()),
                    row.get("total").getAsLong(), row.toString());
        }
        HostCommandsTest.Run text = run("hugepages", "--node", "0");
        assertEquals(0, text.code(), text.err());
        assertEquals(rows.size() + 1, text.out().lines().count(), "a header and one line per pool: " + text.out());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--node 4096             | NUMA node 4096 does not exist on this host (its nodes: [0",
        "--show --node 4096      | NUMA node 4096 does not exist on this host (its nodes: [0",
        "--reserve 2 --node 4096 | NUMA node 4096 does not exist on this host (its nodes: [0",
        "--node -3               | --node -3: a NUMA node is 0 or more",
        "--reserve 2 --node -1   | --node -1: a NUMA node is 0 or more",
        "--reserve -5            | --reserve -5: the number of pages is 0 or more",
    })
    void badInputIsAUsageErrorNamingWhatWasWrong(String args, String message) throws IOException {
        HostRequirement.require(Files.isDirectory(NODE0), NODE0 + " is missing (no NUMA sysfs)");
        String before = Files.readString(Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
        String[] argv = Stream.concat(Stream.of("hugepages"), Stream.of(args.trim().split("\\s+"))).toArray(String[]::new);
        HostCommandsTest.Run r = run(argv);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), r.err());
        assertEquals(before, Files.readString(Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")),
                "nothing reserved");
    }
}
