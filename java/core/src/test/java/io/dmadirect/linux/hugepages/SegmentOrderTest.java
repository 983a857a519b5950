package io.dmadirect.linux.hugepages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** A PA segment's file pages are mapped in the order of their physical addresses, so adjacent ones form runs. */
class SegmentOrderTest {
    private static final long M2 = 2L << 20;

    @Test
    void pagesHandedOutInDescendingOrderAreMappedAscending() {
        assertArrayEquals(new int[] {3, 2, 1, 0}, SegmentMapper.sortedByAddress(new long[] {4 * M2, 3 * M2, 2 * M2, M2}));
    }

    @Test
    void scatteredPagesAreSortedAndAnOrderedSegmentIsLeftAlone() {
        assertArrayEquals(new int[] {1, 2, 0}, SegmentMapper.sortedByAddress(new long[] {0x5_0000_0000L, M2, 0x1_0000_0000L}));
        assertNull(SegmentMapper.sortedByAddress(new long[] {M2, 2 * M2, 9 * M2}));
        assertNull(SegmentMapper.sortedByAddress(new long[0]));
    }
}
