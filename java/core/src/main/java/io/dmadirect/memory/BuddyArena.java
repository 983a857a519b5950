package io.dmadirect.memory;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A binary buddy allocator over whole frames that it takes from its zone's {@link FramePool}. Several
 * arenas serve one zone, each under its own lock, so threads on different arenas never meet.
 *
 * <h2>Notation</h2>
 * <pre>
 *  P            = 4 KiB, the page
 *  F            = frame size = 2^M pages; M is maxOrder (2 MiB hugepages: M = 9)
 *  g            = global page id = frameIndex * 2^M + page; an int, so links need no objects
 *  block(g, k)  = the 2^k pages [g, g + 2^k), where g % 2^k == 0; k is the block's order, 0..M
 *  buddy(g, k)  = g ^ 2^k, the other half of block(g &amp; ~2^k, k + 1)
 * </pre>
 * Because a frame is 2^M pages and frames start at multiples of 2^M in g, a block never crosses a frame,
 * and the buddy of a block of order k &lt; M lies in the same frame.
 *
 * <h2>State per page (kept in {@link Frame}, read only at the first page of a block)</h2>
 * <pre>
 *  freeOrder[p] = k   a free block of order k starts at p and sits on list k; otherwise -1
 *  pageState[p]       live(k) or cached(k): an allocated block of order k starts at p; otherwise 0
 *  next[p], prev[p]   the doubly linked free list k, as global ids; -1 ends it
 * </pre>
 *
 * <h2>Invariants (under {@link #lock})</h2>
 * <ol>
 *  <li>Every page of every frame this arena owns lies in exactly one block, free or allocated.</li>
 *  <li>Two free buddies of the same order never coexist: freeing merges them (so free memory is held in
 *      the fewest, largest blocks).</li>
 *  <li>List k holds exactly the blocks with {@code freeOrder == k}; {@code heads[k] == -1} when empty.
 *      Removing any block from its list is O(1) through {@code prev}.</li>
 *  <li>{@code freeBytes} is the sum over the lists of {@code 2^k * P}.</li>
 *  <li>{@code wholeFrames} is the length of list M: frames of this arena that are wholly free. At most
 *      {@code keepWholeFrames} stay; the others go back to the pool, where contiguous allocations can
 *      use them.</li>
 * </ol>
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/page_alloc.c">__rmqueue_smallest(),
 *      expand(), __free_one_page()</a>
 */
final class BuddyArena {
    private final ReentrantLock lock = new ReentrantLock();
    private final FramePool pool;
    private final FrameTableHolder tables;
    private final int maxOrder;
    private final int pageMask;
    private final int keepWholeFrames;
    private final int[] heads;
    private int wholeFrames;
    /**
     * Written under the lock; read without it for the zone's free count, a racy sum like the kernel's
     * {@code zone_page_state()}. Not volatile, so the arena path pays no fence for it.
     */
    private long freeBytes;

    BuddyArena(FramePool pool, FrameTableHolder tables, int maxOrder, int keepWholeFrames) {
        this.pool = pool;
        this.tables = tables;
        this.maxOrder = maxOrder;
        this.pageMask = (1 << maxOrder) - 1;
        this.keepWholeFrames = keepWholeFrames;
        this.heads = new int[maxOrder + 1];
        Arrays.fill(heads, -1);
    }

    /**
     * Allocates a block of {@code order} whose last byte is at or below {@code physLimit} (unsigned;
     * {@link PageAllocator#NO_LIMIT} for any), taking a frame from the pool when this arena has no block
     * and {@code mayTakeFrame}. The block's page state becomes live.
     *
     * @return the block's global page id, or -1
     */
    int allocate(int order, long physLimit, boolean mayTakeFrame) {
        lock.lock();
        try {
            FrameTable t = tables.get();
            int g = physLimit == PageAllocator.NO_LIMIT ? takeSmallest(order, t) : takeBelow(order, physLimit, t);
            if (g < 0 && mayTakeFrame) {
                Frame frame = pool.takeFrame(physLimit, this);
                if (frame == null) {
                    return -1;
                }
                t = tables.get(); // the frame may be newer than the table read above
                // Split the new frame itself: with a limit, older blocks on the lists may lie above it.
                g = frame.index << maxOrder;
                freeBytes += t.frameSize;
                split(g, maxOrder, order, t);
            }
            if (g < 0) {
                return -1;
            }
            t.frames[g >>> maxOrder].pageState[g & pageMask] = Frame.live(order);
            freeBytes -= PageAllocator.PAGE_SIZE << order;
            return g;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees block {@code (g, order)} if its page state is {@code expectedState}, merging it with free
     * buddies.
     *
     * @return false, changing nothing, when the block is not allocated in that state (a double free)
     */
    boolean free(int g, int order, byte expectedState) {
        lock.lock();
        try {
            FrameTable t = tables.get();
            Frame frame = t.frames[g >>> maxOrder];
            int page = g & pageMask;
            if (frame.arena != this || frame.pageState[page] != expectedState) {
                return false;
            }
            frame.pageState[page] = 0;
            frame.owners[page] = null;
            freeBytes += PageAllocator.PAGE_SIZE << order;
            while (order < maxOrder) {
                int buddy = g ^ (1 << order);
                if (frame.freeOrder[buddy & pageMask] != order) {
                    break; // the buddy is allocated, or split into smaller blocks of which some are in use
                }
                removeFree(buddy, order, t);
                g &= ~(1 << order);
                order++;
            }
            addFree(g, order, t);
            if (order == maxOrder && wholeFrames > keepWholeFrames) {
                giveBack(g, t);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Gives every wholly free frame back to the pool, for a contiguous allocation that needs them. */
    void returnWholeFrames() {
        lock.lock();
        try {
            FrameTable t = tables.get();
            while (heads[maxOrder] >= 0) {
                giveBack(heads[maxOrder], t);
            }
        } finally {
            lock.unlock();
        }
    }

    long freeBytes() {
        return freeBytes;
    }

    /** Bytes of the largest free block, 0 when none. */
    long largestFreeBytes() {
        lock.lock();
        try {
            for (int k = maxOrder; k >= 0; k--) {
                if (heads[k] >= 0) {
                    return PageAllocator.PAGE_SIZE << k;
                }
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** __rmqueue_smallest(): the smallest free block that fits, split down to {@code order}. */
    private int takeSmallest(int order, FrameTable t) {
        for (int k = order; k <= maxOrder; k++) {
            int g = heads[k];
            if (g >= 0) {
                removeFree(g, k, t);
                split(g, k, order, t);
                return g;
            }
        }
        return -1;
    }

    /**
     * The slow path for a physical limit: walks the lists from {@code order} up for a block whose first
     * {@code 2^order} pages end at or below the limit. Splitting keeps the low half, so those are the pages
     * handed out.
     */
    private int takeBelow(int order, long physLimit, FrameTable t) {
        long bytes = PageAllocator.PAGE_SIZE << order;
        for (int k = order; k <= maxOrder; k++) {
            for (int g = heads[k]; g >= 0; g = t.frames[g >>> maxOrder].next[g & pageMask]) {
                long last = t.phys[g >>> maxOrder] + (long) (g & pageMask) * PageAllocator.PAGE_SIZE + bytes - 1;
                if (Long.compareUnsigned(last, physLimit) <= 0) {
                    removeFree(g, k, t);
                    split(g, k, order, t);
                    return g;
                }
            }
        }
        return -1;
    }

    /** expand(): halves block(g, k) until it has {@code order}, putting each upper half on its list. */
    private void split(int g, int k, int order, FrameTable t) {
        while (k > order) {
            k--;
            addFree(g + (1 << k), k, t);
        }
    }

    private void giveBack(int g, FrameTable t) {
        removeFree(g, maxOrder, t);
        freeBytes -= t.frameSize;
        pool.returnFrame(t.frames[g >>> maxOrder]);
    }

    private void addFree(int g, int k, FrameTable t) {
        Frame frame = t.frames[g >>> maxOrder];
        int page = g & pageMask;
        int first = heads[k];
        frame.freeOrder[page] = (byte) k;
        frame.prev[page] = -1;
        frame.next[page] = first;
        if (first >= 0) {
            t.frames[first >>> maxOrder].prev[first & pageMask] = g;
        }
        heads[k] = g;
        if (k == maxOrder) {
            wholeFrames++;
        }
    }

    private void removeFree(int g, int k, FrameTable t) {
        Frame frame = t.frames[g >>> maxOrder];
        int page = g & pageMask;
        int before = frame.prev[page];
        int after = frame.next[page];
        if (before >= 0) {
            t.frames[before >>> maxOrder].next[before & pageMask] = after;
        } else {
            heads[k] = after;
        }
        if (after >= 0) {
            t.frames[after >>> maxOrder].prev[after & pageMask] = before;
        }
        frame.freeOrder[page] = -1;
        if (k == maxOrder) {
            wholeFrames--;
        }
    }
}
