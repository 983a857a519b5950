package io.dmadirect.drivers.e1000e;

/**
 * The registers (BAR0) and descriptor layouts of the Intel 82574L GbE controller that this driver uses, as
 * the datasheet (revision 3.4, section 10 "Register Descriptions", 7.1.4 and 7.2.2 for the legacy descriptors)
 * defines them and QEMU's e1000e model implements them. Names follow the Linux e1000e driver's
 * ({@code drivers/net/ethernet/intel/e1000e/defines.h} and {@code regs.h}).
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/net/ethernet/intel/e1000e/regs.h">e1000e regs.h</a>
 */
final class E1000eRegisters {
    static final int VENDOR_INTEL = 0x8086;
    /** The 82574L: QEMU's {@code -device e1000e}. */
    static final int DEVICE_82574L = 0x10d3;

    static final int CTRL = 0x0000;
    static final int STATUS = 0x0008;
    static final int ICR = 0x00c0;
    static final int IMC = 0x00d8;
    static final int RCTL = 0x0100;
    static final int TCTL = 0x0400;
    static final int RDBAL = 0x2800;
    static final int RDBAH = 0x2804;
    static final int RDLEN = 0x2808;
    static final int RDH = 0x2810;
    static final int RDT = 0x2818;
    static final int TDBAL = 0x3800;
    static final int TDBAH = 0x3804;
    static final int TDLEN = 0x3808;
    static final int TDH = 0x3810;
    static final int TDT = 0x3818;
    /** Receive address 0, low and high: the MAC address the EEPROM loaded. */
    static final int RAL0 = 0x5400;
    static final int RAH0 = 0x5404;

    // statistics: clear on read; the 64-bit octet counters clear when their high half is read
    static final int CRCERRS = 0x4000;
    static final int MPC = 0x4010;
    static final int GPRC = 0x4074;
    static final int GPTC = 0x4080;
    static final int GORCL = 0x4088;
    static final int GORCH = 0x408c;
    static final int GOTCL = 0x4090;
    static final int GOTCH = 0x4094;
    static final int TPR = 0x40d0;
    static final int TPT = 0x40d4;

    /** CTRL.SLU: set link up. */
    static final int CTRL_SLU = 1 << 6;
    /** CTRL.RST: device reset, self-clearing. */
    static final int CTRL_RST = 1 << 26;
    /** STATUS.LU: link up. */
    static final int STATUS_LU = 1 << 1;

    static final int RCTL_EN = 1 << 1;
    /** Unicast and multicast promiscuous: the driver takes every frame, as a packet generator's peer must. */
    static final int RCTL_UPE = 1 << 3;
    static final int RCTL_MPE = 1 << 4;
    static final int RCTL_BAM = 1 << 15;
    /** RCTL.BSIZE 00 with BSEX 0: 2048-byte receive buffers. */
    static final int RCTL_BSIZE_2048 = 0;
    /** RCTL.SECRC: strip the Ethernet CRC, so a descriptor's length is the frame's. */
    static final int RCTL_SECRC = 1 << 26;

    static final int TCTL_EN = 1 << 1;
    /** TCTL.PSP: pad short packets to 64 bytes. */
    static final int TCTL_PSP = 1 << 3;
    /** TCTL.CT = 0x0f and COLD = 0x3f, the Linux driver's full-duplex values (E1000_COLLISION_THRESHOLD/DISTANCE). */
    static final int TCTL_CT_COLD = 0x0f << 4 | 0x3f << 12;

    /** Both legacy descriptors are 16 bytes; a ring's length must be a multiple of 128 bytes (8 descriptors). */
    static final int DESCRIPTOR_BYTES = 16;
    static final int RING_ALIGN_DESCRIPTORS = 8;

    // legacy transmit descriptor (datasheet 7.2.2.1): buffer address, length, CSO, CMD, STA, CSS, special
    static final int TX_LENGTH = 8;
    static final int TX_CMD = 11;
    static final int TX_STATUS = 12;
    static final int TXD_CMD_EOP = 0x01;
    static final int TXD_CMD_IFCS = 0x02;
    static final int TXD_CMD_RS = 0x08;
    static final int TXD_STAT_DD = 0x01;

    // legacy receive descriptor (datasheet 7.1.4.1): buffer address, length, checksum, status, errors, special
    static final int RX_LENGTH = 8;
    static final int RX_STATUS = 12;
    static final int RX_ERRORS = 13;
    static final int RXD_STAT_DD = 0x01;
    static final int RXD_STAT_EOP = 0x02;

    /** Ethernet frames without CRC: 60 bytes at least (the sender pads), 1514 at most without jumbo frames. */
    static final int MIN_FRAME = 60;
    static final int MAX_FRAME = 1514;

    private E1000eRegisters() {
    }
}
