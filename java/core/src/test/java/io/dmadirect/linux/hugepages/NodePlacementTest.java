package io.dmadirect.linux.hugepages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The allocation report of pages by NUMA node: the preferred node, the count per node, and the fallback. */
class NodePlacementTest {
    @Test
    void pagesAllOnThePreferredNodeDidNotFallBack() {
        NodePlacement p = NodePlacement.of(1, new int[] {1, 1, 1});
        assertEquals(3, p.pagesOn(1));
        assertFalse(p.fellBack());
        assertEquals("node 1 preferred; pages 3 on node 1", p.toString());
    }

    @Test
    void pagesOnAnotherNodeAreAFallbackAndNamedSo() {
        NodePlacement p = NodePlacement.of(1, new int[] {1, 0, 1, 0, 0});
        assertEquals(Map.of(0, 3, 1, 2), p.pagesByNode());
        assertTrue(p.fellBack());
        assertEquals("node 1 preferred; pages 3 on node 0, 2 on node 1; fell back to other nodes: node 1 had too few free",
                p.toString());
    }

    @Test
    void segmentsAddUpAndUnknownNodesAreCountedApart() {
        NodePlacement grown = NodePlacement.NONE.plus(NodePlacement.of(0, new int[] {0, -14}))
                .plus(NodePlacement.of(0, new int[] {0}));
        assertEquals(0, grown.preferredNode());
        assertEquals(Map.of(-1, 1, 0, 2), grown.pagesByNode());
        assertTrue(grown.fellBack(), "a page the kernel did not place on node 0 is not on the preferred node");
        assertEquals("no NUMA node asked", NodePlacement.NONE.toString());
        assertFalse(NodePlacement.NONE.fellBack());
    }

    @Test
    void optionsTakeANodeAndRefuseOneOutOfRange() {
        assertEquals(HugepageOptions.ANY_NODE, HugepageOptions.DEFAULTS.node());
        assertEquals(1, HugepageOptions.DEFAULTS.withNode(1).withInitialBytes(4 << 20).node());
        for (int bad : new int[] {-2, 64}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HugepageOptions.DEFAULTS.withNode(bad));
            assertEquals("NUMA node " + bad + ": want 0 to 63, or ANY_NODE (-1)", e.getMessage());
        }
    }
}
