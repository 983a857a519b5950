package io.dmadirect.linux.hugepages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * A PA segment's file pages are mapped in the order of their physical addresses, so adjacent ones form runs; and
 * only when that makes runs longer, since each page out of place costs a remap at start.
 */
class SegmentOrderTest {
    private static final long M2 = 2L << 20;

    @Test
    void pagesHandedOutInDescendingOrderAreMappedAscending() {
        assertArrayEquals(new int[] {3, 2, 1, 0}, SegmentMapper.sortedByAddress(new long[] {4 * M2, 3 * M2, 2 * M2, M2}, M2));
    }

    @Test
    void scatteredPagesAreSortedWhenThatJoinsPagesAndAnOrderedSegmentIsLeftAlone() {
        assertArrayEquals(new int[] {2, 1, 0}, SegmentMapper.sortedByAddress(new long[] {0x5_0000_0000L, 2 * M2, M2}, M2));
        assertNull(SegmentMapper.sortedByAddress(new long[] {M2, 2 * M2, 9 * M2}, M2));
        assertNull(SegmentMapper.sortedByAddress(new long[0], M2));
    }

    @Test
    void pagesNoTwoOfWhichAreAdjacentAreNotRemapped() {
        // Sorting would join nothing: every page stays a run of its own, and the remap's system calls buy nothing.
        assertNull(SegmentMapper.sortedByAddress(new long[] {0x5_0000_0000L, M2, 0x1_0000_0000L}, M2));
        assertNull(SegmentMapper.sortedByAddress(new long[] {9 * M2, 5 * M2, M2}, M2));
    }

    @Test
    void aSortThatJoinsNoMoreThanTheFileOrderIsSkipped() {
        // With 2 MiB pages sorting joins 0, M2 and 2 M2 where the file order joins only M2 and 2 M2; with 6 MiB
        // pages no two are adjacent in either order, so the remap would buy nothing.
        assertNull(SegmentMapper.sortedByAddress(new long[] {M2, 2 * M2, 0, 9 * M2}, M2 * 3));
        assertArrayEquals(new int[] {2, 0, 1, 3}, SegmentMapper.sortedByAddress(new long[] {M2, 2 * M2, 0, 9 * M2}, M2));
    }
}
