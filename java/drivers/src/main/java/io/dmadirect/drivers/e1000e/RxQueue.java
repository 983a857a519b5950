package io.dmadirect.drivers.e1000e;

import static io.dmadirect.drivers.e1000e.E1000eRegisters.*;

import io.dmadirect.DmaDevice;
import io.dmadirect.pci.MmioRegion;
import java.lang.invoke.VarHandle;

/**
 * The receive ring: every descriptor holds a pool buffer. A batch takes the frames the device wrote back
 * (DD set), gives each slot a fresh buffer from the pool, and moves the tail once. When the pool has no
 * fresh buffer the frame is dropped and its own buffer goes back into the ring, so the ring never runs dry
 * and no buffer is lost: the drop is counted ({@link #droppedNoBuffer}).
 *
 * <p>The tail (RDT) trails the next slot to clean by one: the device owns the slots from its head up to the
 * tail, exclusive, and the one at the tail, which holds a buffer, is the gap that tells a full ring from an
 * empty one (the Linux driver's {@code e1000_alloc_rx_buffers} keeps the same gap).
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/net/ethernet/intel/e1000e/netdev.c">e1000_clean_rx_irq</a>
 */
final class RxQueue {
    private final MmioRegion regs;
    private final PacketPool pool;
    private final DescriptorRing ring;
    private final int[] slots;
    private int clean;
    private long droppedNoBuffer;
    private long errors;
    private long received;

    RxQueue(DmaDevice dma, MmioRegion regs, PacketPool pool, int size) {
        DescriptorRing.checkSize(size);
        if (pool.capacity() <= size) {
            throw new IllegalArgumentException("the packet pool (" + pool.capacity() + " buffers) must hold more "
                    + "buffers than the receive ring (" + size + " descriptors): every descriptor keeps one");
        }
        this.regs = regs;
        this.pool = pool;
        this.ring = new DescriptorRing(dma, size);
        this.slots = new int[size];
        int got = pool.allocBatch(slots, 0, size);
        if (got != size) {
            pool.freeBatch(slots, 0, got);
            ring.close();
            throw new IllegalStateException("the packet pool has " + pool.available() + " free buffers; the receive "
                    + "ring needs " + size);
        }
        for (int i = 0; i < size; i++) {
            ring.putRx(i, pool.dmaAddress(slots[i]));
        }
    }

    /** Points the device at the ring: base, length, head 0, tail at the last slot. */
    void program() {
        regs.write32(RDBAL, (int) ring.dmaAddress());
        regs.write32(RDBAH, (int) (ring.dmaAddress() >>> 32));
        regs.write32(RDLEN, (int) ring.bytes());
        regs.write32(RDH, 0);
        clean = 0;
        VarHandle.fullFence();
        regs.write32(RDT, ring.size() - 1);
    }

    /**
     * Moves up to {@code max} received frames' handles into {@code out[offset..]}; returns how many. The
     * application owns them now and {@link PacketPool#free frees} them.
     */
    int receive(int[] out, int offset, int max) {
        int n = 0;
        int processed = 0;
        while (n < max) {
            int wb = ring.rxWriteBack(clean);
            if (wb == 0) {
                break;
            }
            int h = slots[clean];
            if (DescriptorRing.rxErrors(wb) != 0 || (DescriptorRing.rxStatus(wb) & RXD_STAT_EOP) == 0) {
                errors++; // a frame in error or spread over buffers (larger than 2048): the buffer goes back
            } else {
                int fresh = pool.alloc();
                if (fresh == PacketPool.NO_BUFFER) {
                    droppedNoBuffer++;
                } else {
                    pool.received(h, DescriptorRing.rxLength(wb));
                    out[offset + n++] = h;
                    h = fresh;
                    slots[clean] = h;
                }
            }
            ring.putRx(clean, pool.dmaAddress(h));
            clean = ring.next(clean);
            processed++;
        }
        if (processed > 0) {
            VarHandle.fullFence(); // the refilled descriptors are in memory before the device may use them
            regs.write32(RDT, ring.previous(clean));
        }
        received += n;
        return n;
    }

    long droppedNoBuffer() {
        return droppedNoBuffer;
    }

    long errors() {
        return errors;
    }

    long received() {
        return received;
    }

    DescriptorRing ring() {
        return ring;
    }

    int clean() {
        return clean;
    }

    /** Frees the ring's memory; the buffers go with the pool. */
    void close() {
        ring.close();
    }
}
