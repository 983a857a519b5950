package io.dmadirect.junit;

/** A simulated machine shape for {@link DmaShapes}; {@link SimulatedShapes} builds each. */
public enum Shape {
    /** 16 MiB of ZONE_DMA, 32 MiB of ZONE_DMA32 right above it and 32 MiB above 4 GiB, a 4 MiB bounce pool: a plain PC. */
    STANDARD,
    /** All memory above 4 GiB and none to obtain below: a narrow mask can only bounce. */
    NO_LOW_MEMORY,
    /** The bus limits the device to 24 address bits ({@code bus_dma_limit}), whatever mask the driver sets. */
    LIMIT_24_BIT,
    /** A bounce pool of 64 KiB: a driver that maps much at once meets mapping errors. */
    TINY_BOUNCE_POOL,
    /** {@code swiotlb=force}: every streaming mapping bounces, so a missing sync shows. */
    FORCED_BOUNCE,
    /** A confidential VM guest: DMA is forced unencrypted, so streaming mappings bounce and coherent memory is shared. */
    CONFIDENTIAL_GUEST,
    /** IOVA mode: the memory is mapped through a simulated IOMMU (the rig's intel-iommu ranges). */
    IOVA
}
