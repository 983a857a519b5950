package io.dmadirect.agent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The agent's table of live entries (allocations, mappings), found by the library object they describe,
 * compared by identity: dma-debug's hash of {@code dma_debug_entry}, for mode {@code debug}'s hot path.
 *
 * <p>Why not a {@code ConcurrentHashMap}: profiled under {@code AgentOverheadBenchmark.Debug.mapUnmapDirect}
 * (async-profiler, itimer), its put and remove were 58% of a map/unmap pair's time: a node allocated per put,
 * a CAS to place it, a lock to remove it and a CAS on the shared size counter on both. Here a table is 64
 * stripes chosen by the key's hash, each a small open-addressed array under its own lock: one uncontended
 * lock per operation, no allocation, no shared counter, and the entry alone is stored (its key is read
 * through it), so a put writes one reference into the array, not two.
 *
 * <p>Why not {@code synchronized}: with the monitors, put and remove were still half a debug map/unmap pair
 * (profiled): a monitor's enter and its exit are each an atomic compare-and-set on the stripe's header. A
 * stripe's lock here is a flag taken with one compare-and-set and given back with a release store, a plain
 * store on x86 and a store-release on arm64: the same mutual exclusion and the same happens-before from
 * each holder to the next, at half the atomic instructions. A section under it is a short probe (or a
 * rare grow); a thread that finds the flag taken spins briefly, then yields.
 *
 * @param <E> the entries, each of which names its key
 */
final class LiveTable<E extends LiveTable.Keyed> {
    /** An entry names the library object it describes. */
    interface Keyed {
        Object key();
    }

    private static final int STRIPES = 64;

    /** One stripe: linear probing, deletion by shifting back (no tombstones), at most half full. */
    private static final class Stripe {
        Keyed[] slots = new Keyed[16];
        int size;
        /** Puts since {@link #slots} was last copied; see {@link #young}. */
        int puts;
        /** 1 while a thread is inside the stripe; see {@link #lock}. */
        volatile int locked;
    }

    private static final VarHandle LOCKED;

    static {
        try {
            LOCKED = MethodHandles.lookup().findVarHandle(Stripe.class, "locked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Enters {@code s}: one compare-and-set when no other thread is inside, the common case. */
    private static void lock(Stripe s) {
        if (!LOCKED.compareAndSet(s, 0, 1)) {
            waitFor(s);
        }
    }

    private static void waitFor(Stripe s) {
        for (int spins = 0; !LOCKED.compareAndSet(s, 0, 1); spins++) {
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // the holder may have been descheduled: let it run
            }
        }
    }

    /** Leaves {@code s}: the release store publishes the section's writes to the next thread that enters. */
    private static void unlock(Stripe s) {
        LOCKED.setRelease(s, 0);
    }

    private final Stripe[] stripes = new Stripe[STRIPES];

    LiveTable() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    private static int hash(Object key) {
        int h = key.hashCode();
        return h ^ (h >>> 16) ^ (h >>> 7);
    }

    private Stripe stripe(int h) {
        return stripes[(h >>> 20) & (STRIPES - 1)];
    }

    /** Adds {@code entry}, replacing an entry of the same key. */
    void put(E entry) {
        Object key = entry.key();
        int h = hash(key);
        Stripe s = stripe(h);
        lock(s);
        try {
            Keyed[] slots = young(s);
            int mask = slots.length - 1;
            for (int i = h & mask;; i = (i + 1) & mask) {
                Keyed e = slots[i];
                if (e == null) {
                    slots[i] = entry;
                    if (++s.size * 2 > slots.length) {
                        grow(s);
                    }
                    return;
                }
                if (e.key() == key) {
                    slots[i] = entry;
                    return;
                }
            }
        } finally {
            unlock(s);
        }
    }

    /**
     * The stripe's array, copied once every {@code slots.length} puts, so that it is young in a busy table.
     * Why: a new entry is a young object, and G1's write barrier for a reference stored into an old array
     * ends in a memory fence, which it skips for a store into a young one; the array of a stripe that lives
     * as long as the agent is old after a few collections. A copy costs one element per put, amortized.
     */
    private static Keyed[] young(Stripe s) {
        Keyed[] slots = s.slots;
        if (++s.puts >= slots.length) {
            slots = slots.clone();
            s.slots = slots;
            s.puts = 0;
        }
        return slots;
    }

    /** The entry of {@code key}, or null. */
    @SuppressWarnings("unchecked")
    E get(Object key) {
        int h = hash(key);
        Stripe s = stripe(h);
        lock(s);
        try {
            int i = indexOf(s.slots, key, h);
            return i < 0 ? null : (E) s.slots[i];
        } finally {
            unlock(s);
        }
    }

    /** The slot holding {@code key}'s entry, or -1: probes from its home slot to the first empty one. */
    private static int indexOf(Keyed[] slots, Object key, int h) {
        int mask = slots.length - 1;
        for (int i = h & mask;; i = (i + 1) & mask) {
            Keyed e = slots[i];
            if (e == null) {
                return -1;
            }
            if (e.key() == key) {
                return i;
            }
        }
    }

    boolean containsKey(Object key) {
        return get(key) != null;
    }

    /** Takes out and returns the entry of {@code key}, or null. */
    @SuppressWarnings("unchecked")
    E remove(Object key) {
        int h = hash(key);
        Stripe s = stripe(h);
        lock(s);
        try {
            Keyed[] slots = s.slots;
            int i = indexOf(slots, key, h);
            if (i < 0) {
                return null;
            }
            E e = (E) slots[i];
            s.size--;
            shiftBack(slots, i, slots.length - 1);
            return e;
        } finally {
            unlock(s);
        }
    }

    /** Backward-shift deletion: the entries after the hole that probed past it move into it. */
    private static void shiftBack(Keyed[] slots, int hole, int mask) {
        int i = hole;
        for (int j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
            int home = hash(slots[j].key()) & mask;
            // slots[j] may fill the hole when its home is not inside (i, j] cyclically.
            if (i <= j ? home <= i || home > j : home <= i && home > j) {
                slots[i] = slots[j];
                i = j;
            }
        }
        slots[i] = null;
    }

    private static void grow(Stripe s) {
        Keyed[] old = s.slots;
        Keyed[] slots = new Keyed[old.length * 2];
        int mask = slots.length - 1;
        for (Keyed e : old) {
            if (e != null) {
                int i = hash(e.key()) & mask;
                while (slots[i] != null) {
                    i = (i + 1) & mask;
                }
                slots[i] = e;
            }
        }
        s.slots = slots;
    }

    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            lock(s);
            try {
                n += s.size;
            } finally {
                unlock(s);
            }
        }
        return n;
    }

    /** A snapshot of every entry. */
    @SuppressWarnings("unchecked")
    List<E> values() {
        List<E> all = new ArrayList<>();
        for (Stripe s : stripes) {
            lock(s);
            try {
                for (Keyed e : s.slots) {
                    if (e != null) {
                        all.add((E) e);
                    }
                }
            } finally {
                unlock(s);
            }
        }
        return all;
    }

    /**
     * Whether some entry {@code matches}, looked at in place, one stripe at a time under its lock: no copy of
     * the table. {@code matches} runs under the lock, so it must be short and must not use this table.
     */
    @SuppressWarnings("unchecked")
    boolean anyMatch(Predicate<? super E> matches) {
        for (Stripe s : stripes) {
            lock(s);
            try {
                for (Keyed e : s.slots) {
                    if (e != null && matches.test((E) e)) {
                        return true;
                    }
                }
            } finally {
                unlock(s);
            }
        }
        return false;
    }

    /** Takes out and returns every entry that {@code matches}. */
    List<E> removeIf(Predicate<? super E> matches) {
        List<E> taken = new ArrayList<>();
        for (E e : values()) {
            if (matches.test(e) && remove(e.key()) == e) {
                taken.add(e);
            }
        }
        return taken;
    }
}
