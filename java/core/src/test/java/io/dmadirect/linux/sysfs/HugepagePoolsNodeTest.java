package io.dmadirect.linux.sysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.hugepages.HugepageSize;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 21 ({@code dmadirect hugepages --node}): the pools of one node, and a node the host does not have named as
 * such, on a fake sysfs with nodes 0 and 1 (2 MiB pools only; node 1 also 1 GiB).
 */
class HugepagePoolsNodeTest {
    @TempDir
    Path tmp;

    private FakeSysfs sys;
    private HugepagePools pools;

    @BeforeEach
    void twoNodes() {
        sys = new FakeSysfs(tmp).hugepages("hugepages-2048kB", 9, 8)
                .file("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "5")
                .file("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "4")
                .file("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "4")
                .file("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages", "4")
                .file("/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages", "1")
                .file("/sys/devices/system/node/node1/hugepages/hugepages-1048576kB/free_hugepages", "0");
        pools = new HugepagePools(sys.tree);
    }

    @Test
    void poolsOfOneNodeAreThatNodesOnly() {
        assertEquals(List.of(new HugepagePools.Pool(HugepageSize.SIZE_2M, 0, 5, 4)), pools.pools(0));
        assertEquals(List.of(new HugepagePools.Pool(HugepageSize.SIZE_2M, 1, 4, 4),
                new HugepagePools.Pool(HugepageSize.SIZE_1G, 1, 1, 0)), pools.pools(1));
        assertEquals(List.of(new HugepagePools.Pool(HugepageSize.SIZE_2M, HugepagePools.ALL_NODES, 9, 8)),
                pools.pools(HugepagePools.ALL_NODES));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 7, 1024, -2, Integer.MIN_VALUE})
    void aNodeTheHostDoesNotHaveIsNamedWithTheNodesThereAre(int node) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pools.pools(node));
        assertTrue(e.getMessage().contains("NUMA node " + node + " does not exist") && e.getMessage().contains("[0, 1]"),
                e.getMessage());
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class,
                () -> pools.reserve(HugepageSize.SIZE_2M, node, 3));
        assertEquals(e.getMessage(), r.getMessage());
        assertEquals("5", sys.read("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"));
        assertEquals("4", sys.read("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"));
    }

    @Test
    void aNegativeCountIsRefusedBeforeAnythingIsWritten() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> pools.reserve(HugepageSize.SIZE_2M, 0, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        assertEquals("5", sys.read("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"));
    }

    @Test
    void reserveOnANodeWritesThatNodesPoolOnly() throws Exception {
        HugepagePools.Pool got = pools.reserve(HugepageSize.SIZE_2M, 0, 12);
        assertEquals(0, got.node());
        assertEquals("12", sys.read("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"));
        assertEquals("4", sys.read("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"));
    }
}
