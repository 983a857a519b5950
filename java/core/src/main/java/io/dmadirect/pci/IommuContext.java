package io.dmadirect.pci;

import io.dmadirect.spi.IommuDomain;
import java.util.Optional;

/**
 * What a PCI function is opened in, and what its DMA addresses mean: the one interface for the four ways Linux
 * gives a device to userspace (libvfn's {@code iommu_ctx}, extended to the two modes without an IOMMU).
 * <ul>
 * <li>{@code uio}: uio_pci_generic; no IOMMU, PA mode;</li>
 * <li>{@code vfio-noiommu}: a VFIO container with the no-IOMMU driver; PA mode;</li>
 * <li>{@code vfio-type1}: a VFIO container with the type1v2 IOMMU; IOVA mode, its {@link #domain()} maps with
 *     {@code VFIO_IOMMU_MAP_DMA};</li>
 * <li>{@code iommufd}: {@code /dev/iommu} and one IO address space; IOVA mode, mapped with {@code IOMMU_IOAS_MAP}.</li>
 * </ul>
 * A session chooses a context, opens its device in it, and builds the memory the mode asks for: pinned hugepages
 * with physical addresses in PA mode, or the same memory mapped through {@link #domain()} in IOVA mode.
 *
 * <p><b>Why here.</b> It takes a {@link PciAddress} and gives a {@link PciDevice}, so it belongs to the API half
 * of {@code pci}, below the mechanism ({@code linux.*}) that implements it and the composition root
 * ({@code host}) that chooses one; a user can supply another (a simulated bus, say). It is not in {@code spi}:
 * the policy never sees a PCI device, only the domain ({@link IommuDomain}, which stays in {@code spi} because
 * {@code iova.IovaMemory} maps through it).
 *
 * <p>Close order: every device opened in a context is closed before the context. Closing a type1 container or
 * an iommufd drops the IOMMU domain and its mappings; VFIO refuses to tear down an IOAS a device is attached to.
 */
public interface IommuContext extends AutoCloseable {

    /** A short name for messages: {@code uio}, {@code vfio-noiommu}, {@code vfio-type1} or {@code iommufd}. */
    String name();

    /** What the device's DMA addresses are in this context: physical (PA) or IOVAs mapped in {@link #domain()}. */
    AddressMode mode();

    /**
     * Opens {@code address} in this context: through its UIO node, its VFIO group (which joins the container),
     * or its VFIO cdev (bound to the iommufd and attached to the IO address space). The caller closes it before
     * this context.
     */
    PciDevice openDevice(PciAddress address);

    /** In IOVA mode, the IOMMU domain that DMA memory is mapped through; empty in PA mode. */
    Optional<IommuDomain> domain();

    /** Releases the context (and with it the IOMMU domain and its mappings); after its devices are closed. */
    @Override
    void close();
}
