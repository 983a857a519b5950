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
     *
     * <p>For the same reason the ring is a fresh array each time it wraps, the full one kept as
     * {@link #previous}: G1's barrier skips its fence for a store into a young object, and an array that is
     * replaced every {@value #PER_THREAD} releases of a busy thread is young when the stores count. It
     * remembers between {@value #PER_THREAD} and twice that many releases.
     */
    private static final class Ring {
        final ReleaseHistory owner;
        final Thread thread;
        LiveTable.Keyed[] entries = new LiveTable.Keyed[PER_THREAD];
        LiveTable.Keyed[] previous = new LiveTable.Keyed[PER_THREAD];
        int next;

        Ring(ReleaseHistory owner, Thread thread) {
            this.owner = owner;
            this.thread = thread;
        }

        /** The {@code k}-th latest release (from 1, up to twice {@value #PER_THREAD}), or null. */
        LiveTable.Keyed latest(int k) {
            int i = next - k; // another thread's next may be stale: bounded either way
            return i >= 0 ? entries[i] : i >= -PER_THREAD ? previous[PER_THREAD + i] : null;
        }
    }

    private final CopyOnWriteArrayList<Ring> rings = new CopyOnWriteArrayList<>();

    /** Remembers that this thread released the key of {@code entry}, its debug entry. */
    void add(DmaHooks.PerThread t, LiveTable.Keyed entry) {
        Object o = t.history;
        Ring ring = o instanceof Ring && ((Ring) o).owner == this ? (Ring) o : register(t);
        int i = ring.next;
        if (i == PER_THREAD) {
            ring.previous = ring.entries;
            ring.entries = new LiveTable.Keyed[PER_THREAD];
            i = 0;
        }
        ring.entries[i] = entry;
        ring.next = i + 1;
    }

    /** The entry of the latest release of {@code key} by any thread, or null when none is remembered. */
    Object find(Object key) {
        for (Ring ring : rings) {
            for (int k = 1; k <= 2 * PER_THREAD; k++) {
                LiveTable.Keyed e = ring.latest(k);
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
            for (int k = 1; k <= 2 * PER_THREAD; k++) {
                LiveTable.Keyed e = ring.latest(k);
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
            forget(ring.entries, matches);
            forget(ring.previous, matches);
        }
    }

    private static void forget(LiveTable.Keyed[] entries, java.util.function.Predicate<Object> matches) {
        for (int i = 0; i < entries.length; i++) {
            Object entry = entries[i];
            if (entry != null && matches.test(entry)) {
                entries[i] = null;
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
