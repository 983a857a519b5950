package io.dmadirect.pci;

import java.util.OptionalLong;

/**
 * A device's register window (a BAR). Accesses are ordered as the device sees them: every read and
 * write is a single access of its width, in program order with the others, as {@code readl}/{@code
 * writel} are in the kernel. Offsets are bytes from the start of the BAR; values are little-endian as
 * PCI is.
 *
 * <p>Once its device or session is closed, an access throws {@link io.dmadirect.DmaUsageException}. An
 * access that races the close never faults the process: the window is replaced by anonymous memory
 * rather than unmapped, so such a read returns 0 and such a write goes nowhere.
 *
 * @see <a href="https://docs.kernel.org/driver-api/device-io.html">Bus-Independent Device Accesses</a>
 */
public interface MmioRegion {

    /** The BAR number, 0 to 5. */
    int index();

    /** Bytes in the region. */
    long size();

    /** Whether the registers are accessed through a CPU mapping (false: one {@code pread}/{@code pwrite} per access). */
    boolean mapped();

    /**
     * Where this process has the BAR mapped: what VFIO maps into an IOMMU so that another device can DMA into
     * this BAR ({@code io.dmadirect.host.PciSession#mapPeerBar}).
     *
     * @return the CPU address of offset 0, or empty when the BAR is reached by {@code pread}/{@code pwrite}
     */
    default OptionalLong cpuAddress() {
        return OptionalLong.empty();
    }

    int read8(long offset);

    int read16(long offset);

    int read32(long offset);

    long read64(long offset);

    void write8(long offset, int value);

    void write16(long offset, int value);

    void write32(long offset, int value);

    void write64(long offset, long value);
}
