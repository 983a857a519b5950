package io.dmadirect.pci;

/**
 * DPDK's IOVA modes: what a DMA address handed to the device means.
 *
 * @see <a href="https://doc.dpdk.org/guides/prog_guide/env_abstraction_layer.html#iova-mode">DPDK IOVA mode</a>
 */
public enum AddressMode {
    /** Physical addresses from pagemap (UIO, VFIO no-IOMMU): the mask limits which memory may be used. */
    PA,
    /** IOVAs we choose and map in the IOMMU (VFIO type1, iommufd): the mask limits where IOVAs are placed. */
    IOVA
}
