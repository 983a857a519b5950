package io.dmadirect.direct;

import io.dmadirect.DmaUsageException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The open/closed state of a platform or a device, and the count of operations running on it, so that
 * {@code close()} frees memory only once nothing can touch it any more.
 *
 * <p>An operation {@linkplain #enter enters} (refused with {@link DmaUsageException} once closed), does
 * its work, and {@linkplain #exit exits} in a {@code finally}. {@link #close} marks the gate closed and
 * then {@linkplain #awaitQuiescence waits} until every operation that entered has exited. Only then does
 * the owner collect what it owns and free or unmap memory. Hence no zeroing, bounce copy or cache flush
 * can run on memory being unmapped (issue 15 finding 1 and 2), and nothing an operation registers can
 * appear after the owner collected (finding 3): the registration happened before the exit that the wait
 * saw.
 *
 * <h2>Why it is correct (the memory-ordering argument)</h2>
 * The count is held in striped {@code long}s; {@link #enter} adds one to its stripe with an atomic
 * read-modify-write, then reads {@code closed} (volatile). {@link #close} writes {@code closed} (volatile),
 * then reads every stripe (volatile). All four are synchronization actions, which the Java Memory Model
 * puts in one total order consistent with each thread's program order (JLS 17.4.4). This is Dekker's
 * pairing: either an operation's increment comes before close's write of {@code closed} in that order, and
 * then close's later read of that stripe sees the increment (or a later value, which is only smaller once
 * that operation exited); or the write comes first, and then the operation's read of {@code closed}, which
 * follows its increment, sees {@code true} and it backs out without touching anything. An operation can
 * never both pass and be missed. When close reads zero from a stripe, that value was written by the
 * decrement of the last operation to exit, a volatile write, so everything that operation did
 * happens-before what close does next.
 *
 * <h2>Why stripes, and why not a {@code LongAdder}</h2>
 * One shared counter would be a global contention point on the hot path (every alloc, map, sync and
 * unmap). Each thread therefore uses the stripe its id hashes to, padded to its own cache lines, and
 * passes the stripe it entered on back to {@link #exit}, so an increment and its decrement always hit the
 * same stripe: a stripe is never negative, and a zero sum means nothing is inside. A {@code LongAdder}
 * moves a thread to another cell under contention between its increment and its decrement, and a sum
 * taken while cells are updated is not a snapshot; a refused enter's decrement could then cancel another
 * operation's increment in the sum and make a false zero.
 *
 * <h2>Owned stripes: one fence instead of two atomics</h2>
 * An atomic read-modify-write is the dearest thing on these paths (about 14 ns each on the 2-vCPU EPYC of
 * docs/benchmarks.md, where the whole direct map+unmap takes about 13), and a bounce map enters a gate. So the
 * first thread to use a stripe owns it for the gate's life (one compare-and-set of its id, never undone: thread
 * ids are not reused), and keeps its own count there, which only it writes: its enter is a volatile store of
 * the count plus one, its exit a release store of the count less one. The volatile store and the volatile read
 * of {@code closed} after it are the same Dekker pair as above (both are synchronization actions, so close's
 * later read of the count sees the store, or the enter sees {@code closed}); a release store read by close's
 * volatile read orders everything the operation did before close goes on. A thread whose stripe another owns
 * uses the stripe's shared count with atomics, as before. On x86 a volatile store costs one fence and a
 * release store nothing, so a gated operation pays one fence instead of two atomics.
 *
 * <h2>Close</h2>
 * Closing is idempotent and may be called from several threads: the first caller closes, the others get
 * {@code false} from {@link #close()} and return at once (the owner serializes its own close where it
 * must wait for the first to finish). The wait is bounded: operations are short (the longest zero or copy
 * their own bytes), so a gate that does not drain in {@link #DEFAULT_WAIT_NANOS} has an operation stuck
 * or a close called from inside an operation of the same gate. The owner then leaks the memory instead of
 * unmapping it under a running operation, and says so.
 */
public final class Lifecycle {
    /** How long close waits for operations to finish before it gives up and leaks: 10 s. */
    public static final long DEFAULT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** 16 longs, 128 bytes: a stripe's line and its neighbour (the adjacent-line prefetcher). */
    private static final int PAD = 16;
    private static final int STRIPES = stripes(Runtime.getRuntime().availableProcessors());
    /** Within a stripe: the shared count (atomic), the owning thread's id (0: none yet), the owner's count. */
    private static final int SHARED = 0;
    private static final int OWNER = 1;
    private static final int OWNED = 2;
    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] counts = new long[(STRIPES + 1) * PAD];
    private final Supplier<String> name;
    private volatile boolean closed;

    /** @param name what is closed, for the exception's message ("device nvme0"), computed only on failure */
    public Lifecycle(Supplier<String> name) {
        this.name = name;
    }

    /**
     * Two stripes per processor, a power of two, at least 16 (so that the few threads of a small machine mostly
     * own a stripe each) and at most 256.
     */
    static int stripes(int processors) {
        int wanted = Math.max(16, Math.min(256, processors * 2));
        return Integer.highestOneBit(wanted - 1) << 1;
    }

    /**
     * Enters an operation; returns the ticket to hand to {@link #exit}. {@code what} should be a constant:
     * this is the hot path, and the message is built only on refusal.
     *
     * @throws DmaUsageException "failed to {@code what}: ... is closed" once closed
     */
    public int enter(String what) {
        int ticket = tryEnter();
        if (ticket < 0) {
            throw new DmaUsageException("failed to " + what + ": " + name.get() + " is closed");
        }
        return ticket;
    }

    /**
     * Enters unless closed; returns the ticket, or -1 when closed (for the operations that are no-ops then). The
     * ticket is the index of the count entered on: the stripe's owned count or its shared one.
     */
    @SuppressWarnings("deprecation") // Thread.threadId() is Java 19; getId() is the same value
    public int tryEnter() {
        long id = Thread.currentThread().getId();
        int stripe = stripeOf(id);
        long owner = (long) CELL.getOpaque(counts, stripe + OWNER);
        if (owner == id || owner == 0 && CELL.compareAndSet(counts, stripe + OWNER, 0L, id)) {
            int ticket = stripe + OWNED;
            long count = (long) CELL.get(counts, ticket); // only this thread writes it
            CELL.setVolatile(counts, ticket, count + 1);
            if (closed) {
                CELL.setRelease(counts, ticket, count);
                return -1;
            }
            return ticket;
        }
        int ticket = stripe + SHARED;
        CELL.getAndAdd(counts, ticket, 1L);
        if (closed) {
            CELL.getAndAdd(counts, ticket, -1L);
            return -1;
        }
        return ticket;
    }

    /** Leaves the operation entered with {@code ticket}, on the thread that entered (an owned count has one writer). */
    public void exit(int ticket) {
        if ((ticket & (PAD - 1)) == OWNED) {
            CELL.setRelease(counts, ticket, (long) CELL.get(counts, ticket) - 1);
        } else {
            CELL.getAndAdd(counts, ticket, -1L);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Refuses further operations; true for the one call that closed the gate. */
    public synchronized boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    /**
     * Waits until every operation that entered has exited (call after {@link #close()}); true when they
     * did, false when {@code timeoutNanos} passed first. It spins briefly, then parks in growing steps up
     * to a millisecond: operations last microseconds, so a close is rarely delayed more than that.
     */
    public boolean awaitQuiescence(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        long park = 1_000;
        for (int round = 0; ; round++) {
            if (inFlight() == 0) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            if (round < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(park);
                park = Math.min(park * 2, 1_000_000);
            }
        }
    }

    /** Operations inside now; exact once closed, since no stripe can then grow for long. */
    long inFlight() {
        long sum = 0;
        for (int s = 1; s <= STRIPES; s++) {
            sum += (long) CELL.getVolatile(counts, s * PAD + SHARED) + (long) CELL.getVolatile(counts, s * PAD + OWNED);
        }
        return sum;
    }

    /** The first index of thread {@code id}'s stripe: the id mixed (Fibonacci hashing), skipping the array's first line. */
    private static int stripeOf(long id) {
        int stripe = (int) ((id * 0x9E3779B97F4A7C15L) >>> 40) & (STRIPES - 1);
        return (stripe + 1) * PAD;
    }

    @Override
    public String toString() {
        return name.get() + (closed ? " (closed, " + inFlight() + " in flight)" : " (open)");
    }
}
