package io.dmadirect.drivers.edu;

/**
 * QEMU's edu device (PCI 1234:11e8), BAR0. From QEMU's docs/specs/edu.txt as of QEMU 7.2.
 *
 * @see <a href="https://www.qemu.org/docs/master/specs/edu.html">QEMU edu device</a>
 */
final class EduRegisters {
    static final int VENDOR = 0x1234;
    static final int DEVICE = 0x11e8;

    static final int ID = 0x00;
    static final int LIVENESS = 0x04;
    static final int FACTORIAL = 0x08;
    /** Bit 0: a factorial is being computed. Bit 7: raise an interrupt when it is done. */
    static final int STATUS = 0x20;
    static final int IRQ_STATUS = 0x24;
    static final int IRQ_RAISE = 0x60;
    static final int IRQ_ACK = 0x64;
    static final int DMA_SRC = 0x80;
    static final int DMA_DST = 0x88;
    static final int DMA_COUNT = 0x90;
    /** Bit 0 start (reads 1 while running), bit 1 direction (1 = device to RAM), bit 2 raise an interrupt. */
    static final int DMA_CMD = 0x98;

    static final int CMD_START = 1;
    static final int CMD_TO_RAM = 2;
    static final int CMD_IRQ = 4;
    /** What the device writes into IRQ_STATUS when a DMA ends. */
    static final int IRQ_DMA_DONE = 0x100;

    /** The device's 4 KiB buffer, in device address space. */
    static final long BUFFER = 0x40000;
    /** QEMU 7.2 checks the range off by one: a count of 4096 calls hw_error() and kills QEMU. */
    static final int MAX_COUNT = 4095;

    private EduRegisters() {
    }
}
