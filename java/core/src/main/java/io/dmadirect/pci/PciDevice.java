package io.dmadirect.pci;

import io.dmadirect.host.PciSession;

/**
 * A PCI function opened for a userspace driver: its configuration space, its BARs and its interrupts.
 * Open one with {@link PciSession}, which also gives the {@code DmaDevice} for its DMA memory.
 */
public interface PciDevice extends AutoCloseable {
    /** {@code PCI_COMMAND} in configuration space. */
    int PCI_COMMAND = 0x04;
    /** {@code PCI_COMMAND_MEMORY}: the device answers memory cycles to its BARs. */
    int COMMAND_MEMORY = 0x2;
    /** {@code PCI_COMMAND_MASTER}: the device may start DMA. */
    int COMMAND_MASTER = 0x4;
    /** {@code PCI_COMMAND_INTX_DISABLE}. */
    int COMMAND_INTX_DISABLE = 0x400;

    PciAddress address();

    /** The kernel driver the function is bound to, e.g. {@code vfio-pci}. */
    String driver();

    /** How DMA addresses of this device are formed. */
    AddressMode addressMode();

    int vendorId();

    int deviceId();

    int readConfig8(int offset);

    int readConfig16(int offset);

    int readConfig32(int offset);

    void writeConfig8(int offset, int value);

    void writeConfig16(int offset, int value);

    void writeConfig32(int offset, int value);

    /**
     * BAR {@code index}, mapped when the kernel allows it, otherwise reached by {@code pread}/{@code pwrite}.
     *
     * @throws io.dmadirect.DmaUsageException when the BAR does not exist or is not memory
     */
    MmioRegion bar(int index);

    /** {@code pci_set_master()}: sets memory decoding and bus mastering in {@code PCI_COMMAND}. */
    default void enableBusMaster() {
        int command = readConfig16(PCI_COMMAND);
        writeConfig16(PCI_COMMAND, command | COMMAND_MASTER | COMMAND_MEMORY);
    }

    /** {@code pci_clear_master()}. */
    default void disableBusMaster() {
        writeConfig16(PCI_COMMAND, readConfig16(PCI_COMMAND) & ~COMMAND_MASTER);
    }

    /** Whether {@link #reset()} is available (VFIO reports {@code VFIO_DEVICE_FLAGS_RESET}). */
    boolean canReset();

    /** Resets the function ({@code VFIO_DEVICE_RESET}). @throws io.dmadirect.DmaUsageException when unsupported */
    void reset();

    /** How many vectors of {@code kind} the device offers (0 when none). */
    int interruptCount(InterruptKind kind);

    /**
     * Enables vector {@code vector} of {@code kind} and returns it. Vectors may be enabled and closed in any
     * order, and closing one leaves the others signalling. Under VFIO, a vector beyond those enabled so far
     * re-enables the index larger, and an interrupt raised in that instant is lost: enable every vector at
     * set-up, the highest first. One kind at a time: close the INTx interrupt before enabling MSI-X.
     */
    Interrupt enableInterrupt(InterruptKind kind, int vector);

    /** Unmaps the BARs, disables interrupts and closes the device. */
    @Override
    void close();
}
