package io.dmadirect.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * dma-debug's active cache-line tracking: each live mapping the device may write ({@code FROM_DEVICE},
 * {@code BIDIRECTIONAL}) is indexed by the cache line its first byte is in, and a second such mapping whose
 * first byte falls in a line already taken is the kernel's "cacheline tracking EEXIST, overlapping mappings
 * aren't supported". As in the kernel only the first line of each mapping is indexed, so a mapping that
 * starts in a line no other mapping starts in is not compared (a partial overlap from the middle is missed),
 * and {@code TO_DEVICE} mappings are never indexed (the device only reads them).
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/debug.c">active_cacheline_insert</a>
 */
final class ActiveCacheLines {
    /** {@code L1_CACHE_SHIFT}: the kernel indexes by 64-byte lines on x86-64 and arm64 alike. */
    static final int LINE_SHIFT = 6;
    static final long LINE_BYTES = 1L << LINE_SHIFT;

    /** A line of a heap array: the array's identity and the line's number inside it. */
    private record HeapLine(Object array, long line) {
        @Override
        public boolean equals(Object o) {
            return o instanceof HeapLine h && h.array == array && h.line == line;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(array) * 31 + Long.hashCode(line);
        }
    }

    /** One indexed mapping: its memory, and what the report says of it. */
    static final class Span {
        final Object base;
        final long start;
        final long size;
        final Object owner;

        Span(Object base, long start, long size, Object owner) {
            this.base = base;
            this.start = start;
            this.size = size;
            this.owner = owner;
        }

        boolean sharesBytesWith(Span other) {
            return start < other.start + other.size && other.start < start + size;
        }
    }

    private final ConcurrentHashMap<Object, List<Span>> lines = new ConcurrentHashMap<>();

    private static Object key(Object base, long start) {
        long line = start >>> LINE_SHIFT;
        return base == null ? (Object) line : new HeapLine(base, line);
    }

    /** Indexes {@code span}; the span already holding its line, or null when the line was free. */
    Span insert(Span span) {
        Span[] existing = new Span[1];
        lines.compute(key(span.base, span.start), (k, list) -> {
            if (list == null) {
                list = new ArrayList<>(1);
            } else if (!list.isEmpty()) {
                existing[0] = list.get(0);
            }
            list.add(span);
            return list;
        });
        return existing[0];
    }

    /** Drops {@code span} (by identity) from its line. */
    void remove(Span span) {
        lines.computeIfPresent(key(span.base, span.start), (k, list) -> {
            list.removeIf(s -> s == span);
            return list.isEmpty() ? null : list;
        });
    }
}
