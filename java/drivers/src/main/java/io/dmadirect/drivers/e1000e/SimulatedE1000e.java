package io.dmadirect.drivers.e1000e;

import static io.dmadirect.drivers.e1000e.E1000eRegisters.*;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.sim.SimulatedBusMaster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * A model of the 82574L's registers and DMA that is just enough for {@link E1000eNic}: reset, the receive and
 * transmit rings with legacy descriptors, link status and the statistics registers, on a simulated platform.
 * Two models {@link #connect connected} are two NICs on one wire: a write to one's transmit tail sends the
 * queued frames straight into the other's receive ring, as QEMU's hub does, or drops them as missed (MPC)
 * when that ring has no free descriptor.
 *
 * <p>It moves frames through the memory the driver allocated ({@link DmaDevice#findBuffer}, looked up once
 * per buffer and cached), so that a benchmark of the driver on it measures the driver: the model itself
 * allocates nothing per frame. Memory that is not a coherent buffer (a bounced {@link E1000eNic#transmitMapped}
 * frame) is read through the platform's bus master.
 *
 * <p>Counters follow QEMU 7.2's model as the rig measured it (NicPairTest): received octets count the 4 CRC
 * bytes although RCTL.SECRC strips them from the buffer, sent octets do not (QEMU added them in 2023). Not thread-safe: the driver calls it under its lock, and a pair is for one thread.
 */
public final class SimulatedE1000e implements MmioRegion {
    private static final int BAR_BYTES = 128 * 1024;
    private static final int CACHE = 4;

    private final DmaDevice dma;
    private final SimulatedBusMaster busMaster;
    private final byte[] mac;
    private final int[] reg = new int[BAR_BYTES / 4];
    private SimulatedE1000e peer;
    // DMA address -> memory, for the few coherent buffers a NIC uses (its two rings and its pool)
    private final long[] cachedBase = new long[CACHE];
    private final long[] cachedEnd = new long[CACHE];
    private final ByteBuffer[] cachedView = new ByteBuffer[CACHE];
    private int cachedNext;
    private ByteBuffer found;
    private int foundOffset;

    /**
     * @param dma       the NIC's device, whose buffers the model reads and writes
     * @param busMaster the platform's bus master for that device, for memory that is not a coherent buffer
     * @param mac       the address the model's "EEPROM" loads into receive address 0
     */
    public SimulatedE1000e(DmaDevice dma, SimulatedBusMaster busMaster, byte[] mac) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        this.dma = dma;
        this.busMaster = busMaster;
        this.mac = mac.clone();
        reset();
    }

    /** Puts both models on one wire. */
    public void connect(SimulatedE1000e other) {
        this.peer = other;
        other.peer = this;
    }

    private void reset() {
        java.util.Arrays.fill(reg, 0);
        reg[RAL0 / 4] = (mac[0] & 0xff) | (mac[1] & 0xff) << 8 | (mac[2] & 0xff) << 16 | (mac[3] & 0xff) << 24;
        reg[RAH0 / 4] = (mac[4] & 0xff) | (mac[5] & 0xff) << 8 | 1 << 31; // AV: address valid
        java.util.Arrays.fill(cachedView, null);
    }

    @Override
    public int index() {
        return 0;
    }

    @Override
    public long size() {
        return BAR_BYTES;
    }

    @Override
    public boolean mapped() {
        return true;
    }

    @Override
    public int read32(long offset) {
        int o = check(offset);
        switch (o) {
            case STATUS:
                return (reg[CTRL / 4] & CTRL_SLU) != 0 && peer != null ? STATUS_LU : 0;
            case ICR, CRCERRS, MPC, GPRC, GPTC, TPR, TPT, GORCH, GOTCH: {
                int v = reg[o / 4];
                reg[o / 4] = 0;
                if (o == GORCH || o == GOTCH) {
                    reg[o / 4 - 1] = 0;
                }
                return v;
            }
            default:
                return reg[o / 4];
        }
    }

    @Override
    public void write32(long offset, int value) {
        int o = check(offset);
        switch (o) {
            case CTRL:
                if ((value & CTRL_RST) != 0) {
                    reset();
                }
                reg[CTRL / 4] = value & ~CTRL_RST;
                break;
            case TDT:
                reg[TDT / 4] = value;
                transmitQueued();
                break;
            default:
                reg[o / 4] = value;
        }
    }

    private static int check(long offset) {
        if (offset < 0 || offset > BAR_BYTES - 4 || (offset & 3) != 0) {
            throw new IllegalArgumentException("no 32-bit register at BAR0 offset 0x" + Long.toHexString(offset));
        }
        return (int) offset;
    }

    private int ringSize(int lenReg) {
        return reg[lenReg / 4] / DESCRIPTOR_BYTES;
    }

    private long ringBase(int low, int high) {
        return reg[low / 4] & 0xffffffffL | (long) reg[high / 4] << 32;
    }

    /** Sends every descriptor from TDH up to TDT (the device's transmit DMA engine). */
    private void transmitQueued() {
        if ((reg[TCTL / 4] & TCTL_EN) == 0) {
            return;
        }
        int size = ringSize(TDLEN);
        long base = ringBase(TDBAL, TDBAH);
        while (reg[TDH / 4] != reg[TDT / 4]) {
            int head = reg[TDH / 4];
            ByteBuffer ring = locate(base + (long) head * DESCRIPTOR_BYTES, DESCRIPTOR_BYTES);
            int d = foundOffset;
            long address = ring.getLong(d);
            int length = ring.getShort(d + TX_LENGTH) & 0xffff;
            int cmd = ring.get(d + TX_CMD) & 0xff;
            ByteBuffer frame = locate(address, length);
            if (frame != null && peer != null) {
                peer.deliver(frame, foundOffset, length);
            }
            // the frame went out (or onto no wire): counted as sent either way, as hardware does
            reg[GPTC / 4]++;
            reg[TPT / 4]++;
            long octets = (reg[GOTCL / 4] & 0xffffffffL | (long) reg[GOTCH / 4] << 32) + length;
            reg[GOTCL / 4] = (int) octets;
            reg[GOTCH / 4] = (int) (octets >>> 32);
            if ((cmd & TXD_CMD_RS) != 0) {
                ring.put(d + TX_STATUS, (byte) TXD_STAT_DD);
            }
            reg[TDH / 4] = head + 1 == size ? 0 : head + 1;
        }
    }

    /** A frame from the wire: into the next receive descriptor, or missed. */
    private void deliver(ByteBuffer src, int offset, int length) {
        if ((reg[RCTL / 4] & RCTL_EN) == 0) {
            return;
        }
        int head = reg[RDH / 4];
        if (head == reg[RDT / 4]) {
            reg[MPC / 4]++;
            return;
        }
        int size = ringSize(RDLEN);
        ByteBuffer ring = locate(ringBase(RDBAL, RDBAH) + (long) head * DESCRIPTOR_BYTES, DESCRIPTOR_BYTES);
        int d = foundOffset;
        long address = ring.getLong(d);
        int stored = Math.max(length, MIN_FRAME); // QEMU pads short frames to 60 bytes
        ByteBuffer buffer = locate(address, stored);
        if (buffer == null) {
            return;
        }
        buffer.put(foundOffset, src, offset, length);
        for (int i = length; i < stored; i++) {
            buffer.put(foundOffset + i, (byte) 0);
        }
        ring.putShort(d + RX_LENGTH, (short) stored);
        ring.put(d + RX_ERRORS, (byte) 0);
        ring.put(d + RX_STATUS, (byte) (RXD_STAT_DD | RXD_STAT_EOP));
        reg[RDH / 4] = head + 1 == size ? 0 : head + 1;
        reg[GPRC / 4]++;
        reg[TPR / 4]++;
        long octets = (reg[GORCL / 4] & 0xffffffffL | (long) reg[GORCH / 4] << 32) + stored + 4;
        reg[GORCL / 4] = (int) octets;
        reg[GORCH / 4] = (int) (octets >>> 32);
    }

    /**
     * The memory at {@code address}: returns a view and sets {@link #foundOffset} to the address's index in it;
     * null when no memory of the device holds the range.
     */
    private ByteBuffer locate(long address, int length) {
        for (int i = 0; i < CACHE; i++) {
            if (cachedView[i] != null && address >= cachedBase[i] && address + length <= cachedEnd[i]) {
                foundOffset = (int) (address - cachedBase[i]);
                return cachedView[i];
            }
        }
        Optional<DmaBuffer> b = dma.findBuffer(address);
        if (b.isPresent() && address + length <= b.get().dmaAddress() + b.get().size()) {
            int slot = cachedNext;
            cachedNext = (cachedNext + 1) % CACHE;
            cachedBase[slot] = b.get().dmaAddress();
            cachedEnd[slot] = cachedBase[slot] + b.get().size();
            cachedView[slot] = b.get().cpuView().order(ByteOrder.LITTLE_ENDIAN);
            foundOffset = (int) (address - cachedBase[slot]);
            return cachedView[slot];
        }
        byte[] bytes = busMaster == null ? null : busMaster.read(address, length);
        if (bytes == null) {
            return null;
        }
        found = ByteBuffer.wrap(bytes); // read-only use: a transmitted frame outside the coherent buffers
        foundOffset = 0;
        return found;
    }

    @Override
    public int read8(long offset) {
        throw narrow(offset);
    }

    @Override
    public int read16(long offset) {
        throw narrow(offset);
    }

    @Override
    public long read64(long offset) {
        return read32(offset) & 0xffffffffL | (long) read32(offset + 4) << 32;
    }

    @Override
    public void write8(long offset, int value) {
        throw narrow(offset);
    }

    @Override
    public void write16(long offset, int value) {
        throw narrow(offset);
    }

    @Override
    public void write64(long offset, long value) {
        write32(offset, (int) value);
        write32(offset + 4, (int) (value >>> 32));
    }

    private static UnsupportedOperationException narrow(long offset) {
        return new UnsupportedOperationException("the 82574L's registers are 32-bit; offset 0x" + Long.toHexString(offset));
    }
}
