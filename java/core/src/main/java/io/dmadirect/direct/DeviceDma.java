package io.dmadirect.direct;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import java.util.List;

/**
 * The DMA fields of the kernel's {@code struct device} that dma-direct reads, as one immutable value:
 * the masks, {@code bus_dma_limit}, {@code dma_range_map}, coherence, and the platform facts that
 * {@code force_dma_unencrypted()} and {@code __sme_set()} depend on. A device swaps in a new value when
 * its driver sets a mask, so a policy function always sees one consistent view.
 *
 * @param encryptionMask   {@code sme_me_mask}: bits the DMA address of encrypted memory carries, 0 for none
 * @param guestMemEncrypt  {@code cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT)}: a confidential VM guest
 * @param segBoundaryMask  {@code dma_parms->segment_boundary_mask} as {@code dma_get_seg_boundary()} returns it:
 *                         {@code 2^n - 1}; no bounce buffer spans a multiple of it + 1. A PCI device starts with
 *                         {@code 0xffffffff} ({@code pci_device_add()}); -1 is {@code ULONG_MAX}, no boundary
 */
public record DeviceDma(DmaMask dmaMask, DmaMask coherentMask, long busDmaLimit, List<DmaRange> ranges,
        boolean coherent, boolean restrictedPool, long encryptionMask, boolean guestMemEncrypt, long segBoundaryMask) {

    /** What {@code pci_device_add()} sets: {@code dma_set_seg_boundary(&dev->dev, 0xffffffff)}. */
    public static final long PCI_SEG_BOUNDARY = 0xffff_ffffL;

    public DeviceDma {
        ranges = List.copyOf(ranges);
        if ((segBoundaryMask & (segBoundaryMask + 1)) != 0) {
            throw new IllegalArgumentException("failed to set the DMA segment boundary: it must be 2^n - 1, got 0x"
                    + Long.toHexString(segBoundaryMask));
        }
    }

    /** A device with the segment boundary of a PCI device ({@link #PCI_SEG_BOUNDARY}). */
    public DeviceDma(DmaMask dmaMask, DmaMask coherentMask, long busDmaLimit, List<DmaRange> ranges, boolean coherent,
            boolean restrictedPool, long encryptionMask, boolean guestMemEncrypt) {
        this(dmaMask, coherentMask, busDmaLimit, ranges, coherent, restrictedPool, encryptionMask, guestMemEncrypt,
                PCI_SEG_BOUNDARY);
    }

    /** A device as it is before its driver runs: both masks 32 bits, as {@code pci_setup_device()} leaves them. */
    public static DeviceDma initial(DeviceProperties properties, long encryptionMask, boolean guestMemEncrypt) {
        return new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, properties.busDmaLimit(), properties.dmaRanges(),
                properties.coherent(), properties.restrictedPool(), encryptionMask, guestMemEncrypt);
    }

    public DeviceDma withDmaMask(DmaMask mask) {
        return new DeviceDma(mask, coherentMask, busDmaLimit, ranges, coherent, restrictedPool, encryptionMask,
                guestMemEncrypt, segBoundaryMask);
    }

    public DeviceDma withCoherentMask(DmaMask mask) {
        return new DeviceDma(dmaMask, mask, busDmaLimit, ranges, coherent, restrictedPool, encryptionMask,
                guestMemEncrypt, segBoundaryMask);
    }

    /**
     * {@code dma_set_seg_boundary()}: the hook a device's {@code setSegBoundary} swaps in, as it does a mask.
     *
     * @param mask {@code 2^n - 1}, or -1 for none
     * @throws IllegalArgumentException when {@code mask} is not {@code 2^n - 1} ({@code iommu_is_span_boundary()}
     *                                  needs a power-of-two boundary)
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_set_seg_boundary</a>
     */
    public DeviceDma withSegBoundary(long mask) {
        return new DeviceDma(dmaMask, coherentMask, busDmaLimit, ranges, coherent, restrictedPool, encryptionMask,
                guestMemEncrypt, mask);
    }
}
