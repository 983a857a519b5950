package io.dmadirect.memory;

import java.util.Arrays;

/**
 * The mutable state of one frame: who owns it (its zone's {@link FramePool}, a {@link BuddyArena}, or a
 * contiguous allocation) and, for the buddy allocator, the state of each of its 4 KiB pages.
 *
 * <p>Frame-level fields are guarded by the zone's pool lock; page arrays by the owning arena's lock, except
 * that the page state of an allocated block belongs to whoever holds the block (the user, or the thread
 * cache it was freed into). Readers without a lock ({@code ownerAt}, stats) see a racy but never torn view.
 */
final class Frame {
    /** Wholly free, on its zone's free list: available to the buddy arenas and to contiguous allocations. */
    static final byte FREE = 0;
    /** Owned by {@link #arena}, which hands out its pages. */
    static final byte BUDDY = 1;
    /** Part of the contiguous allocation that starts at frame {@link #contigHead}. */
    static final byte CONTIGUOUS = 2;

    private static final int LIVE = 0x20;
    private static final int CACHED = 0x40;

    final int index;

    byte state = FREE;
    BuddyArena arena;
    /** Index of this frame in its pool's free stack while FREE. */
    int poolSlot = -1;
    int contigHead = -1;
    /** On the head frame of a contiguous allocation: how many frames it spans. */
    int contigFrames;

    /** Per page, meaningful at the first page of a block: the order of the free block that starts here, or -1. */
    final byte[] freeOrder;
    /** Per page: {@link #live}(k) or {@link #cached}(k) for an allocated block of order k that starts here, else 0. */
    final byte[] pageState;
    /** Free-list links, as global page ids ({@code frame << maxOrder | page}); -1 ends a list. */
    final int[] next;
    final int[] prev;
    /** Per page: the owner set on the allocation that starts here (page 0 also for contiguous allocations). */
    final Object[] owners;

    Frame(int index, int pagesPerFrame) {
        this.index = index;
        freeOrder = new byte[pagesPerFrame];
        Arrays.fill(freeOrder, (byte) -1);
        pageState = new byte[pagesPerFrame];
        next = new int[pagesPerFrame];
        prev = new int[pagesPerFrame];
        owners = new Object[pagesPerFrame];
    }

    /** The page state of a block of {@code order} that its user holds. */
    static byte live(int order) {
        return (byte) (LIVE | order);
    }

    /** The page state of a block of {@code order} parked in a thread cache: allocated, but not the user's. */
    static byte cached(int order) {
        return (byte) (CACHED | order);
    }
}
