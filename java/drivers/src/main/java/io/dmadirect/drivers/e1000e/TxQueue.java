package io.dmadirect.drivers.e1000e;

import static io.dmadirect.drivers.e1000e.E1000eRegisters.*;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.pci.MmioRegion;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * The transmit ring. A batch first reclaims what the device has sent (DD written back: the buffers go back to
 * the pool, in one batch), then writes one descriptor per frame and moves the tail once. A slot holds either a
 * pool buffer's handle or, for {@link #transmitMapped}, a streaming mapping of the caller's memory that is
 * unmapped once sent.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/net/ethernet/intel/e1000e/netdev.c">e1000_clean_tx_irq</a>
 */
final class TxQueue {
    /** A slot that holds a streaming mapping rather than a pool buffer. */
    private static final int MAPPED = -1;

    private final DmaDevice dma;
    private final MmioRegion regs;
    private final PacketPool pool;
    private final DescriptorRing ring;
    private final int[] slots;
    private final DmaMapping[] mapped;
    private final int[] done;
    private int clean;
    private int tail;
    private long sent;
    private long mappingFailures;

    TxQueue(DmaDevice dma, MmioRegion regs, PacketPool pool, int size) {
        this.dma = dma;
        this.regs = regs;
        this.pool = pool;
        this.ring = new DescriptorRing(dma, size);
        this.slots = new int[size];
        this.mapped = new DmaMapping[size];
        this.done = new int[size];
    }

    void program() {
        regs.write32(TDBAL, (int) ring.dmaAddress());
        regs.write32(TDBAH, (int) (ring.dmaAddress() >>> 32));
        regs.write32(TDLEN, (int) ring.bytes());
        regs.write32(TDH, 0);
        regs.write32(TDT, 0);
        clean = 0;
        tail = 0;
    }

    /**
     * Queues {@code handles[offset..offset + n)} as far as the ring has room; returns how many, from the first.
     * The queued handles belong to the driver from here on; the others stay the caller's.
     *
     * @throws IllegalArgumentException (before anything is queued) for a handle not in use or a length
     *                                  outside 1 to 1514
     */
    int transmit(int[] handles, int offset, int n) {
        java.util.Objects.checkFromIndexSize(offset, n, handles.length);
        reclaim();
        int k = Math.min(n, ring.free(clean, tail));
        for (int i = 0; i < k; i++) {
            checkFrame(pool.length(handles[offset + i]), handles[offset + i]);
        }
        for (int i = 0; i < k; i++) {
            int h = handles[offset + i];
            ring.putTx(tail, pool.dmaAddress(h), pool.length(h));
            slots[tail] = h;
            tail = ring.next(tail);
        }
        if (k > 0) {
            ringTail();
        }
        return k;
    }

    /**
     * Sends {@code [offset, offset + length)} of {@code frame} without copying: the bytes are mapped for the
     * device ({@link DmaDevice#map}, {@code dma_map_single}) and unmapped once sent. Returns false, with nothing held, when the ring is
     * full or the mapping fails (counted in {@link #mappingFailures}): the frame is dropped.
     */
    boolean transmitMapped(ByteBuffer frame, int offset, int length) {
        checkFrame(length, -1);
        reclaim();
        if (ring.free(clean, tail) == 0) {
            return false;
        }
        DmaMapping m;
        try {
            // the mapping object is this path's cost per frame; the pool's buffers have none
            m = dma.map(frame.slice(offset, length), DmaDirection.TO_DEVICE);
        } catch (DmaMappingException e) {
            mappingFailures++;
            return false;
        }
        ring.putTx(tail, m.dmaAddress(), length);
        slots[tail] = MAPPED;
        mapped[tail] = m;
        tail = ring.next(tail);
        ringTail();
        return true;
    }

    private void ringTail() {
        VarHandle.fullFence(); // descriptors (and frames) are in memory before the doorbell
        regs.write32(TDT, tail);
    }

    private static void checkFrame(int length, int handle) {
        if (length < 1 || length > MAX_FRAME) {
            throw new IllegalArgumentException("a frame to send is 1 to " + MAX_FRAME + " bytes (no CRC; the NIC "
                    + "pads short ones to 60 and appends the CRC), not " + length
                    + (handle >= 0 ? " (packet buffer " + handle + ": set its length)" : ""));
        }
    }

    /** Gives back what the device has sent; returns how many descriptors. */
    int reclaim() {
        int n = 0;
        int freed = 0;
        while (clean != tail && ring.txDone(clean)) {
            int h = slots[clean];
            if (h == MAPPED) {
                unmap(clean);
            } else {
                done[freed++] = h;
            }
            clean = ring.next(clean);
            n++;
        }
        if (freed > 0) {
            pool.freeBatch(done, 0, freed);
        }
        sent += n;
        return n;
    }

    private void unmap(int slot) {
        DmaMapping m = mapped[slot];
        mapped[slot] = null;
        m.close();
    }

    /** Descriptors queued and not yet reclaimed. */
    int inFlight() {
        return ring.distance(clean, tail);
    }

    long sent() {
        return sent;
    }

    long mappingFailures() {
        return mappingFailures;
    }

    DescriptorRing ring() {
        return ring;
    }

    /**
     * For close, after the device stopped: unmaps the mappings still in the ring (the pool's buffers go with
     * the pool), then frees the ring.
     */
    void close() {
        try {
            while (clean != tail) {
                if (slots[clean] == MAPPED) {
                    unmap(clean);
                }
                clean = ring.next(clean);
            }
        } finally {
            ring.close();
        }
    }
}
