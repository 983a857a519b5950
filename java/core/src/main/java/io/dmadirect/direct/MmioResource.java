package io.dmadirect.direct;

import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.Sizes;

/**
 * {@code dma_map_resource()} over dma-direct: MMIO (another device's BAR) is addressed by its physical address
 * as it is, because the dma-ranges of a device describe how it reaches system RAM, not peer MMIO; the kernel
 * therefore takes {@code dma_addr = phys} on the {@code DMA_ATTR_MMIO} path of {@code dma_direct_map_phys()},
 * where RAM goes through {@code phys_to_dma()}. MMIO is never bounced (a bounce copy of registers is not the
 * registers) and never cache-maintained, so the only question is whether the device reaches all of it.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_map_phys</a>
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_map_resource</a>
 */
final class MmioResource {
    private MmioResource() {
    }

    /**
     * {@code BUG_ON(!valid_dma_direction(dir))} and the size: checked before anything else, as the kernel does,
     * so a bad call fails the same way on an open and a closed device.
     */
    static void checkArguments(long size, DmaDirection direction, String what) {
        StreamingMapper.checkDirection(direction, what);
        if (size < 1) {
            throw new IllegalArgumentException("failed to " + what + ": size " + size + " (at least 1 byte)");
        }
    }

    /**
     * The DMA address of {@code [phys, phys + size)} of MMIO for a device with policy {@code p}.
     *
     * @param forceBounce     {@code is_swiotlb_force_bounce()}: every mapping of the device must bounce
     * @param iommuTranslated the device's addresses are IOVAs we map, not physical addresses (IOVA mode)
     * @throws DmaMappingException when the device cannot be given the range, with the reason
     */
    static long map(DevicePolicy p, boolean forceBounce, boolean iommuTranslated, long phys, long size, String device) {
        String range = Sizes.hex(phys) + " + " + size;
        if (Long.compareUnsigned(phys + size - 1, phys) < 0) {
            throw new IllegalArgumentException("failed to map resource " + range + " for " + device
                    + ": the range wraps past the top of the address space");
        }
        if (iommuTranslated) {
            throw new DmaMappingException("failed to map resource " + range + " for " + device + ": the device is in "
                    + "IOVA mode, and a process cannot map a physical address into the IOMMU (VFIO and iommufd map "
                    + "this process's virtual memory); map the peer's BAR with PciSession.mapPeerBar, which maps its CPU "
                    + "mapping");
        }
        if (forceBounce) {
            throw new DmaMappingException("failed to map resource " + range + " for " + device + ": every mapping of "
                    + "this device must bounce (swiotlb=force, a restricted pool or a confidential guest), and MMIO cannot "
                    + "be bounced (dma_direct_map_phys refuses DMA_ATTR_MMIO there)");
        }
        long dma = phys;
        if (!DmaDirect.capable(p.dma, dma, size)) {
            throw new DmaMappingException("failed to map resource " + range + " for " + device + ": DMA address "
                    + Sizes.hex(dma) + ".." + Sizes.hex(dma + size - 1) + " is beyond what the device reaches ("
                    + StreamingMapper.reach(p) + ") (dma_capable); MMIO is never bounced, so widen the device's mask (setDmaMask) if it "
                    + "drives more address bits, or use IOVA mode, where the IOMMU places the BAR within the mask");
        }
        return dma;
    }
}
