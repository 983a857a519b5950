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

    /*
     * The per-page arrays, about 14 bytes per 4 KiB page (7 KiB per 2 MiB frame), exist only once the frame has
     * been a buddy frame: a free or contiguous frame never reads them, and a platform start allocated them for
     * every frame (issue 18: three quarters of the 9.9 KB a start allocated per 2 MiB page). They are created by
     * {@link #ensurePages} under the pool lock when an arena takes the frame, and kept after it goes back, so a
     * reader that reached the frame through an allocation or the arena's lock always sees them; the lock-free
     * readers ({@code ownerAt}, a free of a bad handle) go through {@link #pageStateAt}, which reads null as 0.
     */

    /** Per page, meaningful at the first page of a block: the order of the free block that starts here, or -1. */
    byte[] freeOrder;
    /** Per page: {@link #live}(k) or {@link #cached}(k) for an allocated block of order k that starts here, else 0. */
    byte[] pageState;
    /** Free-list links, as global page ids ({@code frame << maxOrder | page}); -1 ends a list. */
    int[] next;
    int[] prev;
    /** Per page: the owner set on the allocation that starts here. */
    Object[] owners;
    /** On the head frame of a live contiguous allocation: its owner. */
    Object contigOwner;

    private final int pagesPerFrame;

    Frame(int index, int pagesPerFrame) {
        this.index = index;
        this.pagesPerFrame = pagesPerFrame;
    }

    /** Creates the per-page arrays the first time the frame becomes a buddy frame; the caller holds the pool lock. */
    void ensurePages() {
        if (pageState != null) {
            return;
        }
        byte[] orders = new byte[pagesPerFrame];
        Arrays.fill(orders, (byte) -1);
        freeOrder = orders;
        next = new int[pagesPerFrame];
        prev = new int[pagesPerFrame];
        owners = new Object[pagesPerFrame];
        pageState = new byte[pagesPerFrame];
    }

    /** The page state at {@code page}, 0 (no block starts there) for a frame that was never a buddy frame. */
    byte pageStateAt(int page) {
        byte[] states = pageState;
        return states == null ? 0 : states[page];
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
