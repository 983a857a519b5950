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
 */
public record DeviceDma(DmaMask dmaMask, DmaMask coherentMask, long busDmaLimit, List<DmaRange> ranges,
        boolean coherent, boolean restrictedPool, long encryptionMask, boolean guestMemEncrypt) {

    public DeviceDma {
        ranges = List.copyOf(ranges);
    }

    /** A device as it is before its driver runs: both masks 32 bits, as {@code pci_setup_device()} leaves them. */
    public static DeviceDma initial(DeviceProperties properties, long encryptionMask, boolean guestMemEncrypt) {
        return new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, properties.busDmaLimit(), properties.dmaRanges(),
                properties.coherent(), properties.restrictedPool(), encryptionMask, guestMemEncrypt);
    }

    public DeviceDma withDmaMask(DmaMask mask) {
        return new DeviceDma(mask, coherentMask, busDmaLimit, ranges, coherent, restrictedPool, encryptionMask,
                guestMemEncrypt);
    }

    public DeviceDma withCoherentMask(DmaMask mask) {
        return new DeviceDma(dmaMask, mask, busDmaLimit, ranges, coherent, restrictedPool, encryptionMask,
                guestMemEncrypt);
    }
}
