package io.dmadirect.spi;

import java.util.List;

/**
 * One interface for the two kernel APIs that put a device behind an IOMMU domain we program: the VFIO
 * type1 container and iommufd's IO address space (libvfn's {@code iommu_ctx_ops}). IOVA-mode memory
 * ({@link io.dmadirect.iova.IovaMemory}) maps through it and never knows which one it has. It is the IOMMU
 * domain of an {@link io.dmadirect.pci.IommuContext} in IOVA mode, which also opens the devices that use it.
 */
public interface IommuDomain extends AutoCloseable {

    /** A short name for messages: {@code vfio-type1} or {@code iommufd}. */
    String name();

    /** The IOVAs the IOMMU accepts for every attached device ({@code CAP_IOVA_RANGE}, {@code IOMMU_IOAS_IOVA_RANGES}). */
    List<IovaRange> validRanges();

    /** How many more mappings the kernel allows ({@code CAP_DMA_AVAIL}); {@link Long#MAX_VALUE} when not limited. */
    long mappingsAvailable();

    /** Maps {@code size} bytes of this process's memory at {@code cpuAddress} readable and writable at {@code iova}. */
    void map(long iova, long cpuAddress, long size);

    /** Removes exactly one earlier {@link #map} of {@code [iova, iova + size)}. */
    void unmap(long iova, long size);

    /** Releases the domain; mappings go with it. */
    @Override
    void close();
}
