package io.dmadirect.drivers.e1000e;

import static io.dmadirect.drivers.e1000e.E1000eRegisters.*;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A ring of 16-byte legacy descriptors in coherent memory, and the index arithmetic both queues share. The
 * hardware owns the descriptors from its head up to the driver's tail; one slot always stays empty, so that a
 * full ring (tail one behind head) differs from an empty one (tail at head).
 */
final class DescriptorRing {
    /** The status byte is read with acquire semantics: the device writes it last, after the length. */
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final DmaBuffer memory;
    private final ByteBuffer ring;
    private final int size;

    DescriptorRing(DmaDevice dma, int size) {
        checkSize(size);
        this.size = size;
        this.memory = dma.allocCoherent((long) size * DESCRIPTOR_BYTES);
        this.ring = memory.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        ring.put(0, new byte[size * DESCRIPTOR_BYTES]); // the allocation is zeroed; say so where it matters
    }

    /** Ring sizes the 82574L takes: a multiple of 8 descriptors (RDLEN/TDLEN in 128-byte units), 8 to 4096. */
    static void checkSize(int size) {
        if (size < RING_ALIGN_DESCRIPTORS || size > 4096 || size % RING_ALIGN_DESCRIPTORS != 0) {
            throw new IllegalArgumentException("a descriptor ring holds a multiple of 8 descriptors from 8 to 4096 "
                    + "(its length in bytes is a multiple of 128), not " + size);
        }
    }

    int size() {
        return size;
    }

    long dmaAddress() {
        return memory.dmaAddress();
    }

    long bytes() {
        return (long) size * DESCRIPTOR_BYTES;
    }

    DmaBuffer memory() {
        return memory;
    }

    /** The slot after {@code i}. */
    int next(int i) {
        return i + 1 == size ? 0 : i + 1;
    }

    /** The slot before {@code i}. */
    int previous(int i) {
        return i == 0 ? size - 1 : i - 1;
    }

    /** Slots from {@code from} up to, not including, {@code to}, going forward. */
    int distance(int from, int to) {
        int d = to - from;
        return d < 0 ? d + size : d;
    }

    /** Slots the driver may still fill when the device last consumed up to {@code clean} and the tail is {@code tail}. */
    int free(int clean, int tail) {
        return size - 1 - distance(clean, tail);
    }

    /** Writes a transmit descriptor for one whole frame: end of packet, insert the CRC, report status. */
    void putTx(int slot, long address, int length) {
        int o = slot * DESCRIPTOR_BYTES;
        ring.putLong(o, address);
        // length (16 bits), CSO 0, CMD; then STA 0, CSS 0, special 0
        ring.putInt(o + TX_LENGTH, length & 0xffff | (TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS) << 24);
        ring.putInt(o + TX_STATUS, 0);
    }

    /** Whether the device has written the transmit descriptor back (STA.DD). */
    boolean txDone(int slot) {
        return ((int) INT.getAcquire(ring, slot * DESCRIPTOR_BYTES + TX_STATUS) & TXD_STAT_DD) != 0;
    }

    /** Gives a receive descriptor a buffer, its status cleared. */
    void putRx(int slot, long address) {
        int o = slot * DESCRIPTOR_BYTES;
        ring.putLong(o, address);
        ring.putLong(o + 8, 0);
    }

    /** The receive descriptor's status and errors bytes and its length, in one int: {@code errors << 24 | status << 16 | length}; 0 while the device has not written it. */
    int rxWriteBack(int slot) {
        int o = slot * DESCRIPTOR_BYTES;
        int statusWord = (int) INT.getAcquire(ring, o + RX_STATUS);
        if ((statusWord & RXD_STAT_DD) == 0) {
            return 0;
        }
        int length = ring.getShort(o + RX_LENGTH) & 0xffff;
        return (statusWord & 0xffff) << 16 | length;
    }

    static int rxLength(int writeBack) {
        return writeBack & 0xffff;
    }

    static int rxStatus(int writeBack) {
        return writeBack >>> 16 & 0xff;
    }

    static int rxErrors(int writeBack) {
        return writeBack >>> 24;
    }

    /** A copy of descriptor {@code slot}'s 16 bytes, for tests and messages. */
    byte[] descriptor(int slot) {
        byte[] b = new byte[DESCRIPTOR_BYTES];
        ring.get(slot * DESCRIPTOR_BYTES, b);
        return b;
    }

    void close() {
        memory.close();
    }
}
