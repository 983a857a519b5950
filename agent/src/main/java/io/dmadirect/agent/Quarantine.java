package io.dmadirect.agent;

import io.dmadirect.agent.bootstrap.DmaHooks;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Freed memory held back from the real free under {@code poison=true}, oldest first, capped by count
 * ({@code quarantine=}) and by bytes ({@code quarantineBytes=}), so that a write through a stale CPU view is
 * seen in the poison when the memory is let go. Whatever leaves it (evicted, drained, a device's) is returned to
 * the caller, which checks the poison and frees it for real outside the lock.
 *
 * @param <E> what is held: the debug entry of a coherent buffer or of {@code allocPages} memory
 */
final class Quarantine<E> {
    private final int maxCount;
    private final long maxBytes;
    private final Function<E, Object> key;
    private final ToLongFunction<E> size;
    private final ArrayDeque<E> order = new ArrayDeque<>();
    private final Map<Object, E> byKey = new IdentityHashMap<>();
    private long bytes;

    Quarantine(int maxCount, long maxBytes, Function<E, Object> key, ToLongFunction<E> size) {
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
        this.key = key;
        this.size = size;
    }

    /** Whether memory of {@code bytes} may be held: a larger one is freed at once, so the cap holds. */
    boolean admits(long bytes) {
        return maxCount > 0 && bytes <= maxBytes;
    }

    /** Holds {@code e}; the oldest entries that no longer fit, for the caller to free. */
    synchronized List<E> add(E e) {
        order.addLast(e);
        byKey.put(key.apply(e), e);
        bytes += size.applyAsLong(e);
        List<E> evicted = new ArrayList<>();
        while (order.size() > maxCount || bytes > maxBytes) {
            evicted.add(take(order.removeFirst()));
        }
        return evicted;
    }

    synchronized boolean contains(Object k) {
        return byKey.containsKey(k);
    }

    /**
     * An allocation failed: takes out everything, oldest first, and gives each to {@code release} (outside this
     * object's lock). True when something was released.
     */
    boolean drain(java.util.function.Consumer<E> release) {
        List<E> all = removeIf(e -> true);
        all.forEach(release);
        return !all.isEmpty();
    }

    /** Takes out everything that {@code matches}, oldest first. */
    synchronized List<E> removeIf(Predicate<E> matches) {
        List<E> taken = new ArrayList<>();
        order.removeIf(e -> {
            if (matches.test(e)) {
                taken.add(take(e));
                return true;
            }
            return false;
        });
        return taken;
    }

    synchronized List<E> snapshot() {
        return new ArrayList<>(order);
    }

    /**
     * Frees held memory for real, as the agent's own release (its free advice lets that through). A device or
     * platform closed meanwhile refuses the free; its close freed the memory already, so that is ignored.
     */
    static void freeForReal(Runnable free) {
        DmaHooks.PerThread thread = DmaHooks.thread();
        thread.releasing = true;
        try {
            free.run();
        } catch (RuntimeException closedMeanwhile) {
            // The device or platform was closed meanwhile; the library freed the memory then.
        } finally {
            thread.releasing = false;
        }
    }

    private E take(E e) {
        byKey.remove(key.apply(e));
        bytes -= size.applyAsLong(e);
        return e;
    }
}
