package io.dmadirect.drivers.e1000e;

import static io.dmadirect.drivers.e1000e.E1000eRegisters.*;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciDevice;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A userspace driver for the Intel 82574L (QEMU's e1000e) on the public API only: one receive and one transmit
 * queue of legacy descriptors in coherent memory, a {@link PacketPool} mapped once, batched and polled. No
 * interrupts: the application polls {@link #receive} and {@link #transmit}, ixy's way.
 *
 * <p>In steady state a batch allocates nothing and makes no system call: the descriptors and buffers are
 * coherent memory the driver writes directly, and the one register write per batch (the tail) goes to the
 * mapped BAR. ({@link #transmitMapped} is the exception: it maps the caller's memory per frame.)
 *
 * <p>Thread safety: every operation takes the NIC's lock, so a thread calling {@link #close()} waits for a
 * batch in progress; once closed, operations throw {@link IllegalStateException}.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/net/ethernet/intel/e1000e/netdev.c">e1000e netdev.c</a>
 */
public final class E1000eNic implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(E1000eNic.class.getName());
    private static final String PREFIX = "drivers/e1000e: ";
    /** How long CTRL.RST may take to clear (the datasheet: about 1 ms on hardware). */
    private static final long RESET_LIMIT_MS = 1000;

    private final Object lock = new Object();
    private final MmioRegion regs;
    private final DmaDevice dma;
    private final String name;
    private final E1000eOptions options;
    private final byte[] mac = new byte[6];
    private PacketPool pool;
    private RxQueue rx;
    private TxQueue tx;
    // statistics registers, accumulated (the hardware clears them on read)
    private long gprc;
    private long gorc;
    private long gptc;
    private long gotc;
    private long tpr;
    private long tpt;
    private long mpc;
    private long crcerrs;
    private boolean closed;

    private E1000eNic(MmioRegion regs, DmaDevice dma, E1000eOptions options, String name) {
        this.regs = regs;
        this.dma = dma;
        this.options = options;
        this.name = name;
    }

    /** As {@link #attach(PciDevice, DmaDevice, E1000eOptions)} with {@link E1000eOptions#DEFAULTS}. */
    public static E1000eNic attach(PciDevice pci, DmaDevice dma) {
        return attach(pci, dma, E1000eOptions.DEFAULTS);
    }

    /**
     * Checks that {@code pci} is an 82574L, sets a 64-bit DMA mask, enables bus mastering, resets the NIC and
     * brings it up (rings, pool, promiscuous receive, link up).
     *
     * @throws IllegalArgumentException when the function is not an 82574L
     */
    public static E1000eNic attach(PciDevice pci, DmaDevice dma, E1000eOptions options) {
        if (pci.vendorId() != VENDOR_INTEL || pci.deviceId() != DEVICE_82574L) {
            throw new IllegalArgumentException("failed to attach the e1000e driver to " + pci.address() + ": it is "
                    + String.format("%04x:%04x", pci.vendorId(), pci.deviceId()) + ", not an Intel 82574L (8086:10d3,"
                    + " QEMU's -device e1000e)");
        }
        dma.setMaskAndCoherent(DmaMask.bits(64));
        pci.enableBusMaster();
        return attach(pci.bar(0), dma, options, pci.address().toString());
    }

    /**
     * Brings up an 82574L whose registers are {@code registers}: a BAR, or a model of the device
     * ({@link SimulatedE1000e}, for tests and benchmarks without hardware). The caller has set the DMA mask.
     */
    public static E1000eNic attach(MmioRegion registers, DmaDevice dma, E1000eOptions options, String name) {
        E1000eNic nic = new E1000eNic(registers, dma, options, name);
        try {
            nic.bringUp();
            return nic;
        } catch (RuntimeException e) {
            try {
                nic.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void bringUp() {
        regs.write32(IMC, 0xffffffff); // polling: no interrupt causes
        regs.write32(CTRL, regs.read32(CTRL) | CTRL_RST);
        waitResetDone();
        regs.write32(IMC, 0xffffffff); // the reset unmasked nothing, but says so on hardware that might
        regs.read32(ICR);
        int ral = regs.read32(RAL0);
        int rah = regs.read32(RAH0);
        for (int i = 0; i < 4; i++) {
            mac[i] = (byte) (ral >>> 8 * i);
        }
        mac[4] = (byte) rah;
        mac[5] = (byte) (rah >>> 8);
        pool = PacketPool.create(dma, options.poolBuffers());
        rx = new RxQueue(dma, regs, pool, options.rxDescriptors());
        tx = new TxQueue(dma, regs, pool, options.txDescriptors());
        rx.program();
        tx.program();
        readStatistics(); // clear-on-read: what the NIC counted before this attach is dropped
        gprc = gorc = gptc = gotc = tpr = tpt = mpc = crcerrs = 0;
        regs.write32(RCTL, RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_BSIZE_2048 | RCTL_SECRC);
        regs.write32(TCTL, TCTL_EN | TCTL_PSP | TCTL_CT_COLD);
        regs.write32(CTRL, regs.read32(CTRL) | CTRL_SLU);
        LOG.log(Level.INFO, PREFIX + "{0}: MAC {1}, {2} RX / {3} TX descriptors, {4}, link {5}", name, mac(mac),
                options.rxDescriptors(), options.txDescriptors(), pool, linkUpNow() ? "up" : "down");
    }

    private void waitResetDone() {
        long deadline = System.nanoTime() + RESET_LIMIT_MS * 1_000_000;
        while ((regs.read32(CTRL) & CTRL_RST) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(PREFIX + name + ": CTRL.RST did not clear within " + RESET_LIMIT_MS
                        + " ms; the device does not answer as an 82574L");
            }
            sleepMillis(1);
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(PREFIX + "interrupted while waiting for the NIC", e);
        }
    }

    static String mac(byte[] m) {
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    }

    /** {@return the MAC address the NIC loaded (receive address 0)} */
    public byte[] macAddress() {
        return mac.clone();
    }

    /** {@return the pool the NIC receives into; frames to {@link #transmit} come from it too} */
    public PacketPool pool() {
        synchronized (lock) {
            checkOpen();
            return pool;
        }
    }

    /** {@return whether STATUS.LU says the link is up} */
    public boolean linkUp() {
        synchronized (lock) {
            checkOpen();
            return linkUpNow();
        }
    }

    private boolean linkUpNow() {
        return (regs.read32(STATUS) & STATUS_LU) != 0;
    }

    /** Waits up to {@code limit} for the link to come up (QEMU's model completes auto-negotiation after a while); returns whether it did. */
    public boolean awaitLink(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!linkUp()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleepMillis(10);
        }
        return true;
    }

    /**
     * Polls the receive ring: up to {@code max} received frames' handles into {@code out[offset..]}; returns
     * how many (0 when nothing arrived). Each handle is the caller's, to read through {@link PacketPool} and
     * then {@link PacketPool#free free}.
     */
    public int receive(int[] out, int offset, int max) {
        java.util.Objects.checkFromIndexSize(offset, max, out.length);
        synchronized (lock) {
            checkOpen();
            return rx.receive(out, offset, max);
        }
    }

    /**
     * Queues {@code handles[offset..offset + n)} (pool buffers with their length set) for sending, as many as the
     * ring has room for; returns how many, from the first. Those belong to the NIC now, which frees them once
     * sent; the rest stay the caller's (send them again, or free them).
     *
     * @throws IllegalArgumentException before anything is queued, for a handle not in use or a length outside
     *                                  1 to 1514 bytes
     */
    public int transmit(int[] handles, int offset, int n) {
        synchronized (lock) {
            checkOpen();
            return tx.transmit(handles, offset, n);
        }
    }

    /**
     * Sends {@code length} bytes of {@code frame} from {@code offset} without copying them into the pool: the
     * memory is mapped for the device and unmapped once sent. Returns false when the frame was dropped: the
     * transmit ring was full, or the mapping failed (counted in {@link E1000eStats#mappingFailures()}).
     */
    public boolean transmitMapped(ByteBuffer frame, int offset, int length) {
        synchronized (lock) {
            checkOpen();
            return tx.transmitMapped(frame, offset, length);
        }
    }

    /** Reclaims what the device has sent; returns the descriptors still in flight. */
    public int reclaim() {
        synchronized (lock) {
            checkOpen();
            tx.reclaim();
            return tx.inFlight();
        }
    }

    /** {@return the counters since attach} Reads the statistics registers. */
    public E1000eStats stats() {
        synchronized (lock) {
            checkOpen();
            readStatistics();
            return new E1000eStats(gprc, gorc, gptc, gotc, tpr, tpt, mpc, crcerrs, rx.received(), tx.sent(),
                    rx.droppedNoBuffer(), rx.errors(), tx.mappingFailures());
        }
    }

    private void readStatistics() {
        gprc += u32(GPRC);
        gorc += u64(GORCL, GORCH);
        gptc += u32(GPTC);
        gotc += u64(GOTCL, GOTCH);
        tpr += u32(TPR);
        tpt += u32(TPT);
        mpc += u32(MPC);
        crcerrs += u32(CRCERRS);
    }

    private long u32(int reg) {
        return regs.read32(reg) & 0xffffffffL;
    }

    /** The low half first: reading the high half clears the counter. */
    private long u64(int low, int high) {
        long lo = regs.read32(low) & 0xffffffffL;
        return lo | (regs.read32(high) & 0xffffffffL) << 32;
    }

    public String name() {
        return name;
    }

    /**
     * {@return whether BAR0 is mapped into this process} When it is not (a BAR reached by {@code pread}/{@code
     * pwrite}), each batch's tail write is one system call.
     */
    public boolean registersMapped() {
        return regs.mapped();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(PREFIX + name + " is closed");
        }
    }

    /**
     * Stops receive and transmit, then frees the rings, the mappings still in flight and the pool. Idempotent;
     * waits for a batch in progress on another thread.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                regs.write32(RCTL, 0);
                regs.write32(TCTL, 0);
                regs.write32(IMC, 0xffffffff);
            } catch (RuntimeException e) {
                // the session (and its BAR) may be closed already; the memory below is freed regardless
                LOG.log(Level.DEBUG, PREFIX + name + ": stopping the NIC at close: " + e.getMessage());
            }
            try {
                if (tx != null) {
                    tx.close();
                }
            } finally {
                try {
                    if (rx != null) {
                        rx.close();
                    }
                } finally {
                    if (pool != null) {
                        pool.close();
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return "e1000e " + name + " (MAC " + mac(mac) + ")";
    }
}
