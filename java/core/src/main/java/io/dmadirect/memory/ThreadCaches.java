package io.dmadirect.memory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Every thread's {@link ThreadCache} for one allocator: the thread-local lookup for the hot path, and a
 * registry so that memory in the caches of other threads is never lost.
 *
 * <p>Draining follows who may touch a cache: the calling thread drains its own; a cache whose owner has
 * terminated is drained by whoever finds it (claimed by removing it from the registry, so only once); a
 * live owner is only asked, through {@link ThreadCache#drainRequested}, and drains at its next allocation
 * or free. A live thread that never calls the allocator again keeps its cache until it terminates.
 */
final class ThreadCaches {
    private final ConcurrentLinkedQueue<ThreadCache> registry = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<ThreadCache> local;
    private final LongConsumer sink;

    /**
     * @param sink returns one cached handle to its arena; called by the thread that drains
     */
    ThreadCaches(Supplier<ThreadCache> factory, LongConsumer sink) {
        this.sink = sink;
        this.local = ThreadLocal.withInitial(() -> {
            // A new thread is a good moment to collect the caches of threads that have ended.
            drainDead();
            ThreadCache cache = factory.get();
            registry.add(cache);
            return cache;
        });
    }

    /** The calling thread's cache, drained first if another thread asked for that. */
    ThreadCache current() {
        ThreadCache cache = local.get();
        if (cache.drainRequested) {
            cache.drainRequested = false;
            cache.drain(sink);
        }
        return cache;
    }

    /** Drains the caller's cache and the caches of terminated threads: the retry before an allocation fails. */
    void drainCurrentAndDead() {
        local.get().drain(sink);
        drainDead();
    }

    /** Drains what this thread may touch, and asks every other live thread to drain its own. */
    void drainAll() {
        drainCurrentAndDead();
        askLiveThreadsToDrain();
    }

    /**
     * Asks every other live thread to drain its cache at its next allocation or free: what an allocation that
     * found nothing does, so that memory parked there comes back while memory is short. The caches of live
     * threads are their owners' alone (no lock on the fast path), so nothing else may take it from them.
     */
    void askLiveThreadsToDrain() {
        for (ThreadCache cache : registry) {
            if (!cache.ownedByCurrentThread() && cache.ownerAlive()) {
                cache.drainRequested = true;
            }
        }
    }

    /** The bytes of {@code zone} in all caches; racy for the caches of other live threads. */
    long cachedBytes(int zone) {
        long bytes = 0;
        for (ThreadCache cache : registry) {
            bytes += cache.cachedBytes(zone);
        }
        return bytes;
    }

    private void drainDead() {
        for (ThreadCache cache : registry) {
            // isAlive() == false happens-after everything the owner did; remove() lets one drainer win.
            if (!cache.ownerAlive() && registry.remove(cache)) {
                cache.drain(sink);
            }
        }
    }
}
