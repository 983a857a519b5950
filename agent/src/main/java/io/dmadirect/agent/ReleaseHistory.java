package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The last buffers and mappings each thread freed or unmapped, with their debug entries, so that a double
 * free or double unmap can say where the first one happened (dma-debug can only say "not allocated").
 *
 * <p>Each thread writes a ring of its own, with no lock and no atomic instruction: a free or unmap is on
 * a driver's hot path, and a shared, synchronized history cost more than every other check together.
 * Only an error path reads the rings, all of them; it sees another thread's releases as far as the
 * driver's own synchronization made them visible, which it must have for the second release to be a
 * double one rather than a race. A release older than the ring's size is forgotten: the report then
 * says "long ago".
 */
final class ReleaseHistory {
    /**
     * Releases remembered per thread. A remembered mapping keeps the memory it mapped reachable (a heap
     * array, a {@code ByteBuffer}) until the ring passes it, so the ring is kept short.
     */
    static final int PER_THREAD = 256;

    /**
     * One thread's ring of entries, each naming its key, {@link #next} the slot to write. Only the entry is
     * stored: a reference stored into an old array costs a GC write barrier with a memory fence, and storing
     * the key beside it doubled that (17% of a debug map/unmap pair, profiled).
     */
    private static final class Ring {
        final ReleaseHistory owner;
        final Thread thread;
        final LiveTable.Keyed[] entries = new LiveTable.Keyed[PER_THREAD];
        int next;

        Ring(ReleaseHistory owner, Thread thread) {
            this.owner = owner;
            this.thread = thread;
        }
    }

    private final CopyOnWriteArrayList<Ring> rings = new CopyOnWriteArrayList<>();

    /** Remembers that this thread released the key of {@code entry}, its debug entry. */
    void add(DmaHooks.PerThread t, LiveTable.Keyed entry) {
        Object o = t.history;
        Ring ring = o instanceof Ring && ((Ring) o).owner == this ? (Ring) o : register(t);
        int i = ring.next;
        ring.entries[i] = entry;
        ring.next = (i + 1) & (PER_THREAD - 1);
    }

    /** The entry of the latest release of {@code key} by any thread, or null when none is remembered. */
    Object find(Object key) {
        for (Ring ring : rings) {
            for (int k = 1; k <= PER_THREAD; k++) {
                int i = (ring.next - k) & (PER_THREAD - 1);
                LiveTable.Keyed e = ring.entries[i];
                if (e != null && e.key() == key) {
                    return e;
                }
            }
        }
        return null;
    }

    /** The entry of the latest release, by any thread, that {@code matches}, or null: a slow scan, for error paths. */
    LiveTable.Keyed findMatching(java.util.function.Predicate<LiveTable.Keyed> matches) {
        for (Ring ring : rings) {
            for (int k = 1; k <= PER_THREAD; k++) {
                LiveTable.Keyed e = ring.entries[(ring.next - k) & (PER_THREAD - 1)];
                if (e != null && matches.test(e)) {
                    return e;
                }
            }
        }
        return null;
    }

    /**
     * Forgets the releases whose entry {@code matches}: at a device's close, so that the history does not keep
     * the closed device, and through it its platform and all the platform's memory, reachable. A ring's owner
     * may write a slot meanwhile; the worst outcome is one release forgotten or kept too many.
     */
    void forget(java.util.function.Predicate<Object> matches) {
        for (Ring ring : rings) {
            for (int i = 0; i < PER_THREAD; i++) {
                Object entry = ring.entries[i];
                if (entry != null && matches.test(entry)) {
                    ring.entries[i] = null;
                }
            }
        }
    }

    /**
     * A ring for this thread. The rings of threads that have ended are dropped here, so a driver that
     * starts a thread per request does not accumulate them; their releases are forgotten.
     */
    private Ring register(DmaHooks.PerThread t) {
        rings.removeIf(r -> !r.thread.isAlive());
        Ring ring = new Ring(this, Thread.currentThread());
        rings.add(ring);
        t.history = ring;
        return ring;
    }
}
