package io.dmadirect.direct;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaMappingException;

/**
 * {@code DMA_ATTR_REQUIRE_COHERENT}: the refusals the kernel adds where a mapping would otherwise get a copy or
 * cache maintenance the caller said it cannot live with. Both checks run before anything is mapped, so a refusal
 * leaves nothing to undo.
 */
final class RequireCoherent {
    static final int BIT = DmaAttr.flags(DmaAttr.REQUIRE_COHERENT);

    private RequireCoherent() {
    }

    /**
     * The mapping-level refusal: a device that is not cache-coherent needs cache maintenance at every ownership
     * change, which the attribute rules out.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_map_phys</a>
     */
    static int checkDevice(boolean coherent, int attrs, String device) {
        if ((attrs & BIT) != 0 && !coherent) {
            throw new DmaMappingException("failed to map for " + device + ": DMA_ATTR_REQUIRE_COHERENT was given and "
                    + "the device is not cache-coherent, so every transfer would need cache maintenance. Map without "
                    + "the attribute and sync at each ownership change, or use coherent memory (allocCoherent)");
        }
        return attrs;
    }

    /**
     * The swiotlb refusal, as for {@code DMA_ATTR_MMIO}: a bounce hands the device a copy, not the memory.
     *
     * @param why why the mapping must bounce, for the message
     * @return the exception to throw; the caller tests the attribute, so the message is built only on refusal
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_map_phys</a>
     */
    static DmaMappingException bounceRefused(String device, String why) {
        return new DmaMappingException("failed to map for " + device + ": the memory must bounce (" + why
                + ") and DMA_ATTR_REQUIRE_COHERENT forbids a bounce buffer, since the device would see a copy. "
                + "Map pinned DMA memory the device reaches (allocCoherent, or a platform buffer within its mask)");
    }
}
