package io.dmadirect.linux.hugepages;

import java.util.ArrayList;
import java.util.List;

/** Groups held pages of a segment into runs that are contiguous both physically and virtually. */
final class PageRuns {

    /** Pages {@code [first, first + count)} of a segment. */
    record Span(int first, int count) {
    }

    private PageRuns() {
    }

    /**
     * Consecutive held pages (virtually adjacent, as one mapping) whose physical addresses follow each other
     * by {@code pageSize} form one span.
     */
    static List<Span> group(long[] physByPage, boolean[] held, long pageSize) {
        List<Span> spans = new ArrayList<>();
        int first = -1;
        for (int i = 0; i < physByPage.length; i++) {
            if (!held[i]) {
                first = close(spans, first, i);
                continue;
            }
            if (first >= 0 && physByPage[i] != physByPage[i - 1] + pageSize) {
                first = close(spans, first, i);
            }
            if (first < 0) {
                first = i;
            }
        }
        close(spans, first, physByPage.length);
        return spans;
    }

    private static int close(List<Span> spans, int first, int end) {
        if (first >= 0) {
            spans.add(new Span(first, end - first));
        }
        return -1;
    }
}
