package io.dmadirect;

import java.util.Optional;

/**
 * A device that does DMA: the {@code struct device} of the kernel's DMA API. It carries the masks
 * the driver set, and allocates coherent memory the device can reach.
 */
public interface DmaDevice extends AutoCloseable {

    String name();

    DeviceProperties properties();

    /** The streaming mask ({@code *dev->dma_mask}); 32 bits until the driver sets it. */
    DmaMask dmaMask();

    /** The coherent mask ({@code dev->coherent_dma_mask}); 32 bits until the driver sets it. */
    DmaMask coherentMask();

    /**
     * {@code dma_set_mask()}.
     *
     * @throws DmaMaskUnsupportedException when no memory of the platform lies within the mask
     */
    void setDmaMask(DmaMask mask);

    /** {@code dma_set_coherent_mask()}. */
    void setCoherentMask(DmaMask mask);

    /** {@code dma_set_mask_and_coherent()}: both masks, the streaming one first, as the kernel does. */
    default void setMaskAndCoherent(DmaMask mask) {
        setDmaMask(mask);
        setCoherentMask(mask);
    }

    /** {@code dma_get_required_mask()}: the smallest mask that reaches all memory of the system through this device. */
    DmaMask requiredMask();

    /** Whether DMA of this device must use unencrypted (shared) memory, as in a confidential VM guest. */
    boolean forcedUnencrypted();

    /**
     * {@code dma_alloc_attrs()}: zeroed memory the device can reach under its coherent mask and bus limit.
     *
     * @param size  bytes, at least 1
     * @throws DmaAllocationException when no memory within reach is free
     */
    DmaBuffer allocCoherent(long size, DmaAttr... attrs);

    /** {@code dma_free_attrs()}; the same as {@link DmaBuffer#close()}. */
    void freeCoherent(DmaBuffer buffer);

    /**
     * {@code dma_direct_to_page()}: the live buffer of this device whose memory holds {@code dmaAddress}.
     */
    Optional<DmaBuffer> findBuffer(long dmaAddress);

    /** Frees what the driver left allocated and detaches the device; using it afterwards throws. */
    @Override
    void close();
}
