package com.example.echo;

import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciDevice;
import java.time.Duration;

/**
 * QEMU's edu device as a {@link DmaEngine}: its DMA controller copies between memory and its 4 KiB buffer
 * (registers in BAR0, QEMU's docs/specs/edu.rst). The device drives only its DMA mask's address lines and drops
 * the rest, so memory beyond the mask gives wrong data rather than an error.
 */
public final class EduEngine implements DmaEngine {
    private static final int DMA_SRC = 0x80;
    private static final int DMA_DST = 0x88;
    private static final int DMA_COUNT = 0x90;
    private static final int DMA_CMD = 0x98;
    private static final int CMD_START = 1;
    private static final int CMD_TO_RAM = 2;
    private static final long DEVICE_BUFFER = 0x40000;
    /** The most one transfer moves: the device's 4 KiB buffer, less one byte for QEMU 7.2 (see run). */
    public static final int MAX_LENGTH = 4095;
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final MmioRegion regs;

    public EduEngine(PciDevice pci) {
        pci.enableBusMaster();
        this.regs = pci.bar(0);
    }

    @Override
    public void toDevice(long dmaAddress, int length) {
        run(dmaAddress, DEVICE_BUFFER, length, 0);
    }

    @Override
    public void fromDevice(long dmaAddress, int length) {
        run(DEVICE_BUFFER, dmaAddress, length, CMD_TO_RAM);
    }

    private void run(long src, long dst, int length, int direction) {
        // QEMU 7.2's edu checks the buffer's upper bound off by one: a 4096-byte transfer kills QEMU (fixed in 8.2.1).
        if (length <= 0 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("the edu moves 1 to " + MAX_LENGTH + " bytes at a time, not " + length);
        }
        regs.write64(DMA_SRC, src);
        regs.write64(DMA_DST, dst);
        regs.write64(DMA_COUNT, length);
        regs.write64(DMA_CMD, CMD_START | direction);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while ((regs.read64(DMA_CMD) & CMD_START) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("edu DMA of " + length + " bytes did not finish in " + TIMEOUT);
            }
            Thread.onSpinWait();
        }
    }
}
