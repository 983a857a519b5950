package io.dmadirect.fuzz;

import java.util.Map;
import java.util.TreeMap;

/**
 * The physical ranges of live coherent buffers and bounce buffers, to prove that no two overlap. Keyed by
 * first address; each value is the last address and what holds it. Shared by the threads of a concurrent
 * run. Once a racing close has begun, a close may free what a thread's model still holds, so an overlap
 * then proves nothing and the newer range replaces the older.
 */
final class LiveRanges {
    private record Range(long last, String holder) {
    }

    private final TreeMap<Long, Range> ranges = new TreeMap<>(Long::compareUnsigned);
    private final java.util.function.BooleanSupplier closing;

    LiveRanges(java.util.function.BooleanSupplier closing) {
        this.closing = closing;
    }

    /** Adds {@code [first, first + size)}; fails the run when it overlaps a live range. */
    synchronized void add(long first, long size, String holder) {
        long last = first + size - 1;
        Map.Entry<Long, Range> below = ranges.floorEntry(last);
        while (below != null && Long.compareUnsigned(below.getValue().last, first) >= 0 && closing.getAsBoolean()) {
            ranges.remove(below.getKey());
            below = ranges.floorEntry(last);
        }
        if (below != null && Long.compareUnsigned(below.getValue().last, first) >= 0) {
            throw new AssertionError(String.format("%s at phys 0x%x..0x%x overlaps live %s at 0x%x..0x%x", holder, first,
                    last, below.getValue().holder, below.getKey(), below.getValue().last));
        }
        ranges.put(first, new Range(last, holder));
    }

    synchronized void remove(long first) {
        if (ranges.remove(first) == null && !closing.getAsBoolean()) {
            throw new AssertionError(String.format("no live range starts at 0x%x", first));
        }
    }

    synchronized boolean isEmpty() {
        return ranges.isEmpty();
    }
}
