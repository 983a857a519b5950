package io.dmadirect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 21: an allocation report names the NUMA node of the memory when the platform knows it, and a node other than
 * the one asked (the device's, as {@code dev_to_node}) is the kernel's node fallback. The rig's {@code numa} variant
 * checks the nodes against {@code move_pages(2)} (NumaPlacementTest); this is the report's own rule.
 */
class AllocationReportNumaTest {

    @ParameterizedTest(name = "node {0}, asked {1}")
    @CsvSource(delimiter = '|', value = {
        // node | asked | fell back | the report ends with
        "1      | 1     | false     | ; on NUMA node 1 (the node asked)",
        "0      | 1     | true      | ; on NUMA node 0 (fell back from node 1, which had too few free hugepages)",
        "3      | 0     | true      | ; on NUMA node 3 (fell back from node 0, which had too few free hugepages)",
        "2      |       | false     | ; on NUMA node 2",
    })
    void theNodeAndTheFallbackAreSaid(int node, Integer asked, boolean fellBack, String tail) {
        AllocationReport r = new AllocationReport(Zone.DMA32, Zone.DMA32, AllocationPath.PAGES, List.of(),
                OptionalInt.of(node), asked == null ? OptionalInt.empty() : OptionalInt.of(asked));
        assertEquals(fellBack, r.fellBackToAnotherNode(), r.toString());
        assertTrue(r.toString().endsWith(tail.trim()), r.toString());
    }

    @Test
    void aPlatformThatKnowsNoNodeSaysNothingAboutNodes() {
        AllocationReport plain = new AllocationReport(Zone.NORMAL, Zone.DMA32, AllocationPath.PAGES, List.of("step"));
        assertEquals(OptionalInt.empty(), plain.numaNode());
        assertEquals(OptionalInt.empty(), plain.preferredNode());
        assertFalse(plain.fellBackToAnotherNode());
        assertFalse(plain.toString().contains("NUMA"), plain.toString());
        AllocationReport nulls = new AllocationReport(Zone.NORMAL, Zone.NORMAL, AllocationPath.PAGES, List.of(), null, null);
        assertEquals(plain.numaNode(), nulls.numaNode());
        // Asked a node but the kernel did not say where the page is: no claim of a fallback.
        AllocationReport unknown = new AllocationReport(Zone.NORMAL, Zone.NORMAL, AllocationPath.PAGES, List.of(),
                OptionalInt.empty(), OptionalInt.of(1));
        assertFalse(unknown.fellBackToAnotherNode());
        assertFalse(unknown.toString().contains("NUMA"), unknown.toString());
    }

    @Test
    void theSimulatedPlatformKnowsNoNode() {
        try (io.dmadirect.sim.SimulatedPlatform platform = io.dmadirect.sim.SimulatedPlatform.builder()
                .region(0, 64 * Sizes.MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sim"));
            try (DmaBuffer b = device.allocCoherent(4096)) {
                assertEquals(OptionalInt.empty(), b.report().numaNode(), b.report().toString());
            }
        }
    }
}
