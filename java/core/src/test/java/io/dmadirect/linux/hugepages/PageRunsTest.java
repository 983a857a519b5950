package io.dmadirect.linux.hugepages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.linux.hugepages.PageRuns.Span;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageRunsTest {
    private static final long P = 2 << 20;

    @Test
    void adjacentPagesJoinAndGapsSplit() {
        long[] phys = {10 * P, 11 * P, 12 * P, 40 * P, 41 * P, 5 * P};
        boolean[] held = {true, true, true, true, true, true};
        assertEquals(List.of(new Span(0, 3), new Span(3, 2), new Span(5, 1)), PageRuns.group(phys, held, P));
    }

    @Test
    void releasedPagesSplitRunsEvenWhenPhysicallyAdjacent() {
        long[] phys = {10 * P, 11 * P, 12 * P, 13 * P};
        boolean[] held = {true, false, true, true};
        assertEquals(List.of(new Span(0, 1), new Span(2, 2)), PageRuns.group(phys, held, P));
    }

    @Test
    void descendingAddressesDoNotJoin() {
        long[] phys = {11 * P, 10 * P};
        assertEquals(List.of(new Span(0, 1), new Span(1, 1)), PageRuns.group(phys, new boolean[] {true, true}, P));
    }

    @Test
    void nothingHeldGivesNoRuns() {
        assertEquals(List.of(), PageRuns.group(new long[] {P}, new boolean[] {false}, P));
    }
}
