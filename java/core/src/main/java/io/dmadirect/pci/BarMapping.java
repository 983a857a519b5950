package io.dmadirect.pci;

import io.dmadirect.DmaDirection;

/**
 * Another device's BAR (or part of it) made reachable by this session's device: what a kernel driver gets from
 * {@code dma_map_resource()} of a peer's MMIO, for peer-to-peer DMA. Give {@link #dmaAddress()} to the device;
 * close to unmap ({@code dma_unmap_resource()}).
 *
 * <p>In PA mode the address is the BAR's physical address from sysfs, checked against the device's mask and
 * bus limit; in IOVA mode it is an IOVA within them, at which the BAR's CPU mapping is mapped into the IOMMU.
 *
 * <p>Close the mapping before the peer's session: closing the peer retires its BAR mapping, and in IOVA mode
 * the IOMMU would still point at the BAR while the peer belongs to no one. Closing the session that made the
 * mapping unmaps it; {@link #close()} is then a no-op.
 */
public interface BarMapping extends AutoCloseable {

    /** {@return the device whose BAR is mapped} */
    PciAddress peer();

    /** {@return the BAR number, 0 to 5} */
    int bar();

    /** {@return the first byte of the BAR mapped} */
    long offset();

    /** {@return the bytes mapped} */
    long size();

    /** {@return who writes, as given when mapped} */
    DmaDirection direction();

    /** {@return the address at which this session's device reaches {@code offset} of the peer's BAR} */
    long dmaAddress();

    /** {@return whether the mapping was unmapped (by {@link #close()} or by its session's close)} */
    boolean isClosed();

    /** Unmaps; idempotent, and a no-op once the session that made it is closed (its close unmapped it). */
    @Override
    void close();
}
