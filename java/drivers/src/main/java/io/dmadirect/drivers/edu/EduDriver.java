package io.dmadirect.drivers.edu;

import static io.dmadirect.drivers.edu.EduRegisters.*;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciDevice;
import java.lang.System.Logger.Level;
import java.time.Duration;

/**
 * A driver for QEMU's edu device on the public API only: DMA between RAM and the device's 4 KiB
 * buffer, the factorial unit and the liveness register. DMA completion is awaited through the
 * device's interrupt (MSI where the device is on vfio-pci, INTx otherwise) delivered to an eventfd
 * or the UIO descriptor; polling the command register is the fallback when no interrupt is available
 * or it does not come.
 *
 * <p>The device drives 28 address lines: {@link #attach} sets a 28-bit DMA mask, so memory the
 * library hands out is reachable. Addresses above 2^28 are silently truncated by the device.
 */
public final class EduDriver implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EduDriver.class.getName());
    private static final String PREFIX = "drivers/edu: ";
    /** The edu device's address width. */
    public static final int DMA_BITS = 28;
    /** The largest safe transfer on QEMU 7.2 (see {@link EduRegisters#MAX_COUNT}). */
    public static final int MAX_TRANSFER = MAX_COUNT;
    /** The device finishes a DMA 100 ms of virtual time after the command; TCG can stretch that a lot. */
    private static final Duration DMA_TIMEOUT = Duration.ofSeconds(20);

    private final PciDevice pci;
    private final DmaDevice dma;
    private final MmioRegion regs;
    private final Interrupt irq;
    private long interruptsSeen;
    private long polledCompletions;

    private EduDriver(PciDevice pci, DmaDevice dma, boolean useInterrupt) {
        this.pci = pci;
        this.dma = dma;
        this.regs = pci.bar(0);
        this.irq = useInterrupt ? openInterrupt(pci) : null;
    }

    /**
     * Checks the device id, enables bus mastering, sets the 28-bit DMA mask on {@code dma} and opens
     * the interrupt.
     *
     * @throws IllegalArgumentException when the device is not an edu
     */
    public static EduDriver attach(PciDevice pci, DmaDevice dma) {
        return attach(pci, dma, true);
    }

    /** As {@link #attach(PciDevice, DmaDevice)}; {@code useInterrupt false} polls for completion only. */
    public static EduDriver attach(PciDevice pci, DmaDevice dma, boolean useInterrupt) {
        if (pci.vendorId() != VENDOR || pci.deviceId() != DEVICE) {
            throw new IllegalArgumentException("failed to attach the edu driver to " + pci.address() + ": it is "
                    + Integer.toHexString(pci.vendorId()) + ":" + Integer.toHexString(pci.deviceId())
                    + ", not edu 1234:11e8");
        }
        pci.enableBusMaster();
        dma.setMaskAndCoherent(DmaMask.bits(DMA_BITS));
        return new EduDriver(pci, dma, useInterrupt);
    }

    private static Interrupt openInterrupt(PciDevice pci) {
        for (InterruptKind kind : new InterruptKind[] {InterruptKind.MSI, InterruptKind.INTX}) {
            if (pci.interruptCount(kind) > 0) {
                try {
                    return pci.enableInterrupt(kind, 0);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, PREFIX + "cannot enable " + kind + ": " + e.getMessage());
                }
            }
        }
        LOG.log(Level.WARNING, PREFIX + "no interrupt available on " + pci.address() + "; polling for DMA completion");
        return null;
    }

    public PciDevice pci() {
        return pci;
    }

    public DmaDevice dma() {
        return dma;
    }

    /** The id register: {@code 0x010000ed} for edu version 1.0. */
    public int id() {
        return regs.read32(ID);
    }

    /** Writes {@code value} to the liveness register; the device answers its bitwise inverse. */
    public int liveness(int value) {
        regs.write32(LIVENESS, value);
        return regs.read32(LIVENESS);
    }

    /** The device computes {@code n!} (32 bits, wrapping); polled. */
    public int factorial(int n) {
        regs.write32(FACTORIAL, n);
        long deadline = System.nanoTime() + DMA_TIMEOUT.toNanos();
        while ((regs.read32(STATUS) & 1) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("edu factorial of " + n + " did not finish in " + DMA_TIMEOUT);
            }
            Thread.onSpinWait();
        }
        return regs.read32(FACTORIAL);
    }

    /** The interrupt in use, if any. */
    public Interrupt interrupt() {
        return irq;
    }

    /** DMA completions signalled by an interrupt so far. */
    public long interruptsSeen() {
        return interruptsSeen;
    }

    /** DMA completions found by polling so far (no interrupt, or it did not come). */
    public long polledCompletions() {
        return polledCompletions;
    }

    /** DMA of {@code count} bytes from RAM at {@code dmaAddress} to the device buffer at {@code offset}. */
    public void toDevice(long dmaAddress, int offset, int count) {
        transfer(dmaAddress, BUFFER + offset, count, offset, 0);
    }

    /** DMA of {@code count} bytes from the device buffer at {@code offset} to RAM at {@code dmaAddress}. */
    public void fromDevice(int offset, long dmaAddress, int count) {
        transfer(BUFFER + offset, dmaAddress, count, offset, CMD_TO_RAM);
    }

    private synchronized void transfer(long src, long dst, int count, int offset, int direction) {
        if (count < 1 || count > MAX_COUNT || offset < 0 || offset + count > MAX_COUNT) {
            throw new IllegalArgumentException("edu DMA of " + count + " bytes at buffer offset " + offset
                    + ": QEMU 7.2's edu accepts 1 to " + MAX_COUNT + " bytes inside its buffer (4096 kills QEMU)");
        }
        regs.write64(DMA_SRC, src);
        regs.write64(DMA_DST, dst);
        regs.write64(DMA_COUNT, count);
        regs.write64(DMA_CMD, CMD_START | direction | (irq != null ? CMD_IRQ : 0));
        awaitDone();
    }

    private void awaitDone() {
        boolean signalled = false;
        if (irq != null && irq.await(DMA_TIMEOUT) > 0) {
            int status = regs.read32(IRQ_STATUS);
            regs.write32(IRQ_ACK, status);
            irq.rearm();
            signalled = (status & IRQ_DMA_DONE) != 0;
        }
        long deadline = System.nanoTime() + DMA_TIMEOUT.toNanos();
        while ((regs.read64(DMA_CMD) & CMD_START) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("edu DMA did not finish in " + DMA_TIMEOUT);
            }
            Thread.onSpinWait();
        }
        if (signalled) {
            interruptsSeen++;
        } else {
            polledCompletions++;
        }
    }

    /** Disables the interrupt and bus mastering; the device and DMA memory stay with their owner. */
    @Override
    public void close() {
        if (irq != null) {
            irq.close();
        }
        pci.disableBusMaster();
    }
}
