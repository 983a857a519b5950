package io.dmadirect.drivers.e1000e;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Packet buffers of one fixed size, carved out of one coherent allocation that is mapped once, when the pool
 * is made: the manner of DPDK's mempool and ixy's. A buffer is named by its handle, an {@code int} from 0 to
 * {@link #capacity()} - 1; the free handles are a stack in an {@code int[]}, so taking and giving back a
 * buffer allocates nothing and makes no system call.
 *
 * <p>Handles move between the application and the NIC: {@link E1000eNic#transmit} takes the handles it
 * queued (and frees them once sent), {@link E1000eNic#receive} hands out handles that the application frees.
 * A handle freed twice, or freed while free, is refused with an exception naming it, so a buffer cannot be
 * handed out twice.
 *
 * <p>Thread safety: every method is synchronized; the batch forms take the lock once per batch.
 */
public final class PacketPool implements AutoCloseable {
    /** What {@link #alloc()} returns when every buffer is in use. */
    public static final int NO_BUFFER = -1;
    /** Every buffer holds 2048 bytes: a full frame (1514 bytes) and the RX buffer size {@code RCTL.BSIZE} 00 gives. */
    public static final int BUFFER_BYTES = 2048;

    private final DmaBuffer memory;
    private final ByteBuffer data;
    private final long base;
    private final int capacity;
    private final int[] free;
    private final boolean[] inUse;
    private final int[] length;
    private int top;
    private long allocFailures;
    private boolean closed;

    private PacketPool(DmaBuffer memory, int capacity) {
        this.memory = memory;
        this.data = memory.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        this.base = memory.dmaAddress();
        this.capacity = capacity;
        this.free = new int[capacity];
        this.inUse = new boolean[capacity];
        this.length = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i; // handle 0 on top: buffers go out in address order first
        }
        top = capacity;
    }

    /**
     * Allocates {@code buffers} buffers of {@link #BUFFER_BYTES} in one coherent allocation.
     *
     * @throws IllegalArgumentException when {@code buffers} is not 1 to 65536
     * @throws io.dmadirect.DmaAllocationException when the memory cannot be had (nothing is left allocated)
     */
    public static PacketPool create(DmaDevice dma, int buffers) {
        if (buffers < 1 || buffers > 65536) {
            throw new IllegalArgumentException("a packet pool holds 1 to 65536 buffers, not " + buffers);
        }
        return new PacketPool(dma.allocCoherent((long) buffers * BUFFER_BYTES), buffers);
    }

    public int capacity() {
        return capacity;
    }

    /** {@return how many buffers are free} */
    public synchronized int available() {
        return top;
    }

    /** {@return how many times {@link #alloc} or {@link #allocBatch} found too few buffers} */
    public synchronized long allocFailures() {
        return allocFailures;
    }

    /** A free buffer's handle, its length 0; {@link #NO_BUFFER} when none is free. */
    public synchronized int alloc() {
        checkOpen();
        if (top == 0) {
            allocFailures++;
            return NO_BUFFER;
        }
        int h = free[--top];
        inUse[h] = true;
        length[h] = 0;
        return h;
    }

    /**
     * Up to {@code n} free buffers into {@code out[offset..]}; returns how many (fewer when the pool runs
     * short, which counts as one {@link #allocFailures() failure}).
     */
    public synchronized int allocBatch(int[] out, int offset, int n) {
        checkOpen();
        java.util.Objects.checkFromIndexSize(offset, n, out.length);
        int got = Math.min(n, top);
        for (int i = 0; i < got; i++) {
            int h = free[--top];
            inUse[h] = true;
            length[h] = 0;
            out[offset + i] = h;
        }
        if (got < n) {
            allocFailures++;
        }
        return got;
    }

    /** Gives a buffer back. @throws IllegalArgumentException for a handle that is not in use */
    public synchronized void free(int handle) {
        checkOpen();
        release(handle);
    }

    /** Gives back {@code handles[offset..offset + n)}. */
    public synchronized void freeBatch(int[] handles, int offset, int n) {
        checkOpen();
        java.util.Objects.checkFromIndexSize(offset, n, handles.length);
        for (int i = 0; i < n; i++) {
            release(handles[offset + i]);
        }
    }

    private void release(int handle) {
        checkInUse(handle);
        inUse[handle] = false;
        free[top++] = handle;
    }

    /** Copies {@code src[offset..offset + n)} into the buffer and sets its length to {@code n}. */
    public synchronized void write(int handle, byte[] src, int offset, int n) {
        checkInUse(handle);
        checkLength(n);
        data.put(offsetOf(handle), src, offset, n);
        length[handle] = n;
    }

    /** Copies the buffer's {@link #length} bytes into {@code dst} at {@code offset}; returns the length. */
    public synchronized int read(int handle, byte[] dst, int offset) {
        checkInUse(handle);
        int n = length[handle];
        data.get(offsetOf(handle), dst, offset, n);
        return n;
    }

    /** {@return the frame's length in bytes: what was written, or what the NIC received} */
    public synchronized int length(int handle) {
        checkInUse(handle);
        return length[handle];
    }

    /** Sets the length of a buffer filled through {@link #data()}. */
    public synchronized void setLength(int handle, int n) {
        checkInUse(handle);
        checkLength(n);
        length[handle] = n;
    }

    /**
     * The whole pool's memory, for zero-copy access: buffer {@code h} starts at {@link #offsetOf offsetOf(h)}
     * and holds {@link #BUFFER_BYTES}. Use absolute gets and puts; the view shares the pool's memory, so it
     * must not be used once the pool is closed.
     */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** {@return where buffer {@code handle} starts in {@link #data()}} */
    public int offsetOf(int handle) {
        checkHandle(handle);
        return handle * BUFFER_BYTES;
    }

    /** The DMA address of a buffer, for a descriptor. */
    long dmaAddress(int handle) {
        return base + (long) handle * BUFFER_BYTES;
    }

    /** Records what the NIC wrote into a buffer it received into. */
    void received(int handle, int n) {
        length[handle] = n;
    }

    /** The pool's one allocation (the simulated NIC reads and writes frames through it). */
    DmaBuffer memory() {
        return memory;
    }

    synchronized boolean isInUse(int handle) {
        checkHandle(handle);
        return inUse[handle];
    }

    private void checkHandle(int handle) {
        if (handle < 0 || handle >= capacity) {
            throw new IllegalArgumentException("packet buffer handle " + handle + " is not in this pool (0 to "
                    + (capacity - 1) + ")");
        }
    }

    private void checkInUse(int handle) {
        checkOpen();
        checkHandle(handle);
        if (!inUse[handle]) {
            throw new IllegalArgumentException("packet buffer " + handle + " is free: it was never allocated, or "
                    + "was freed already (a handle given to transmit() belongs to the NIC, which frees it)");
        }
    }

    private static void checkLength(int n) {
        if (n < 0 || n > BUFFER_BYTES) {
            throw new IllegalArgumentException("a packet buffer holds 0 to " + BUFFER_BYTES + " bytes, not " + n);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the packet pool is closed");
        }
    }

    /** Frees the pool's memory; handles still out are void. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            memory.close();
        }
    }

    @Override
    public String toString() {
        return "packet pool (" + capacity + " x " + BUFFER_BYTES + " bytes at DMA 0x" + Long.toHexString(base) + ")";
    }
}
