package io.dmadirect.memory;

import io.dmadirect.Zone;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The wholly free frames of one zone, shared by the zone's buddy arenas (one frame at a time) and by
 * contiguous allocations (runs of frames), the way the kernel's CMA area and buddy allocator share
 * pageblocks.
 *
 * <p>Every method takes the pool lock. Arenas call in while holding their own lock, so the lock order is
 * arena, then pool; the pool never calls an arena.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/cma.c">cma_alloc(), cma_release()</a>
 */
final class FramePool {
    final Zone zone;
    private final ReentrantLock lock = new ReentrantLock();
    private final FrameTableHolder tables;

    /** Frames of the zone in ascending physical order: the order of the first-fit search. */
    private int[] byPhys = new int[0];
    /** Free frames as a stack; {@link Frame#poolSlot} is each one's position, for O(1) removal. */
    private int[] freeStack = new int[0];
    private int freeCount;
    /** Written under the lock, read without it for the lowmem-reserve check and stats. */
    private volatile long freeFrames;
    private volatile long totalFrames;
    private volatile long lowestLastByte = -1L;
    private volatile long highestLastByte;

    FramePool(Zone zone, FrameTableHolder tables) {
        this.zone = zone;
        this.tables = tables;
    }

    /** Adds frames of this zone that the table has just gained; they start free. */
    void add(FrameTable t, int firstNewFrame) {
        lock.lock();
        try {
            int[] added = t.framesOf(zone, firstNewFrame);
            if (added.length == 0) {
                return;
            }
            int[] all = Arrays.copyOf(byPhys, byPhys.length + added.length);
            System.arraycopy(added, 0, all, byPhys.length, added.length);
            Integer[] boxed = Arrays.stream(all).boxed().toArray(Integer[]::new);
            Arrays.sort(boxed, (a, b) -> Long.compareUnsigned(t.phys[a], t.phys[b]));
            byPhys = Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
            freeStack = Arrays.copyOf(freeStack, byPhys.length);
            // Pushed lowest first, so single frames for the buddy arenas come from the top of the zone and
            // the low end stays whole for first-fit contiguous runs.
            for (int f : added) {
                push(t.frames[f]);
            }
            totalFrames = byPhys.length;
            lowestLastByte = t.lastByte(byPhys[0]);
            highestLastByte = t.lastByte(byPhys[byPhys.length - 1]);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Hands a free frame to {@code arena}: the top of the stack, or with a limit the first free frame whose
     * last byte is at or below it.
     *
     * @return the frame, now {@link Frame#BUDDY}, or null
     */
    Frame takeFrame(long physLimit, BuddyArena arena) {
        lock.lock();
        try {
            FrameTable t = tables.get();
            int slot = freeCount - 1;
            if (physLimit != PageAllocator.NO_LIMIT) {
                while (slot >= 0 && Long.compareUnsigned(t.lastByte(freeStack[slot]), physLimit) > 0) {
                    slot--;
                }
            }
            if (slot < 0) {
                return null;
            }
            Frame frame = t.frames[freeStack[slot]];
            remove(frame, t);
            frame.ensurePages();
            frame.state = Frame.BUDDY;
            frame.arena = arena;
            return frame;
        } finally {
            lock.unlock();
        }
    }

    /** Takes back a frame that its arena has wholly freed. */
    void returnFrame(Frame frame) {
        lock.lock();
        try {
            frame.state = Frame.FREE;
            frame.arena = null;
            push(frame);
        } finally {
            lock.unlock();
        }
    }

    /**
     * First fit, in physical order, of {@code frames} free frames that are contiguous physically and for the
     * CPU (consecutive frames of one run) and whose last byte is at or below {@code physLimit}.
     *
     * @return the head frame index, or -1
     */
    int allocContiguous(int frames, long physLimit) {
        lock.lock();
        try {
            FrameTable t = tables.get();
            if (frames > freeCount) {
                return -1;
            }
            int start = -1;
            int length = 0;
            for (int i = 0; i < byPhys.length; i++) {
                int f = byPhys[i];
                if (physLimit != PageAllocator.NO_LIMIT && Long.compareUnsigned(t.lastByte(f), physLimit) > 0) {
                    break; // ascending order: nothing further is below the limit
                }
                if (t.frames[f].state != Frame.FREE) {
                    length = 0;
                    continue;
                }
                if (length > 0 && (f != start + length || !t.continues(start + length - 1))) {
                    length = 0;
                }
                if (length == 0) {
                    start = f;
                }
                if (++length == frames) {
                    claim(start, frames, t);
                    return start;
                }
            }
            return -1;
        } finally {
            lock.unlock();
        }
    }

    private void claim(int head, int frames, FrameTable t) {
        for (int f = head; f < head + frames; f++) {
            Frame frame = t.frames[f];
            remove(frame, t);
            frame.state = Frame.CONTIGUOUS;
            frame.contigHead = head;
        }
        t.frames[head].contigFrames = frames;
    }

    /** Frees a contiguous allocation; false, changing nothing, when it is not one that is live. */
    boolean freeContiguous(int head, int frames) {
        lock.lock();
        try {
            FrameTable t = tables.get();
            Frame first = t.frames[head];
            if (first.state != Frame.CONTIGUOUS || first.contigHead != head || first.contigFrames != frames) {
                return false;
            }
            first.contigOwner = null;
            first.contigFrames = 0;
            for (int f = head; f < head + frames; f++) {
                Frame frame = t.frames[f];
                frame.state = Frame.FREE;
                frame.contigHead = -1;
                push(frame);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The longest run of free frames, counting frames that an arena holds wholly free (they return on
     * demand, see {@link BuddyArena#returnWholeFrames}).
     */
    long largestFreeBytes() {
        lock.lock();
        try {
            FrameTable t = tables.get();
            long best = 0;
            long length = 0;
            int previous = -2;
            for (int f : byPhys) {
                Frame frame = t.frames[f];
                boolean free = frame.state == Frame.FREE
                        || (frame.state == Frame.BUDDY && frame.freeOrder[0] == t.maxOrder);
                if (!free) {
                    length = 0;
                } else if (length > 0 && f == previous + 1 && t.continues(previous)) {
                    length++;
                } else {
                    length = 1;
                }
                previous = f;
                best = Math.max(best, length);
            }
            return best * t.frameSize;
        } finally {
            lock.unlock();
        }
    }

    long freeFrames() {
        return freeFrames;
    }

    long totalFrames() {
        return totalFrames;
    }

    /** The last byte of the zone's lowest frame (unsigned), or all ones when it has none. */
    long lowestLastByte() {
        return lowestLastByte;
    }

    long highestLastByte() {
        return highestLastByte;
    }

    private void push(Frame frame) {
        frame.poolSlot = freeCount;
        freeStack[freeCount++] = frame.index;
        freeFrames = freeCount;
    }

    /** Swap-removes the frame from the free stack; the frame that was on top takes its slot. */
    private void remove(Frame frame, FrameTable t) {
        int slot = frame.poolSlot;
        int top = freeStack[--freeCount];
        freeStack[slot] = top;
        t.frames[top].poolSlot = slot;
        frame.poolSlot = -1;
        freeFrames = freeCount;
    }
}
