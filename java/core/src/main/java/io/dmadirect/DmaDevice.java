package io.dmadirect;

import java.nio.ByteBuffer;
import java.util.List;
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

    /**
     * {@code dma_map_single()} of the buffer's {@code [position, limit)}, which must stay untouched by the
     * CPU until it is synced or unmapped as {@link DmaMapping} describes. The mapping is direct when the
     * buffer is pinned DMA memory (such as a {@link DmaBuffer}'s CPU view) that the device reaches under
     * its streaming mask and bus limit ({@code dma_capable}); otherwise, and always for heap buffers, for
     * {@code swiotlb=force} and for forced-unencrypted devices, it bounces. The buffer's position is not
     * changed, and the buffer is kept reachable until the mapping is unmapped.
     *
     * @throws IllegalArgumentException for an empty buffer, {@link DmaDirection#NONE}, or a read-only
     *                                  buffer the device would write
     * @throws DmaMappingException      when the size exceeds {@link #maxMappingSize()} or the bounce
     *                                  pool's, or the pool is full; the message gives the pool's state
     */
    default DmaMapping map(ByteBuffer buffer, DmaDirection direction) {
        return map(buffer, direction, new DmaAttr[0]);
    }

    /** {@code dma_map_single_attrs()}: as {@link #map(ByteBuffer, DmaDirection)}, with attributes such as {@link DmaAttr#SKIP_CPU_SYNC}. */
    DmaMapping map(ByteBuffer buffer, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_map_single()} of {@code array[offset, offset + length)}. Heap memory moves, so this
     * always bounces; the low bits kept under {@link #minAlignMask()} are those of {@code offset}.
     */
    DmaMapping map(byte[] array, int offset, int length, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_map_sg()}: maps each buffer as {@link #map(ByteBuffer, DmaDirection, DmaAttr...)} does and
     * returns one segment per buffer. When one fails, those already mapped are unmapped and the error
     * names the failing segment.
     */
    ScatterList mapSg(List<ByteBuffer> buffers, DmaDirection direction, DmaAttr... attrs);

    /** {@code dma_unmap_single()}: copies back what a bounced mapping's device wrote, then releases it. */
    void unmap(DmaMapping mapping);

    /**
     * {@code dma_sync_single_for_cpu()}: the CPU may now read what the device wrote.
     *
     * @param direction must be the mapping's, as the kernel's dma-debug insists
     * @throws DmaUsageException for an unmapped mapping, another device's, or another direction
     */
    void syncForCpu(DmaMapping mapping, DmaDirection direction);

    /**
     * {@code dma_sync_single_range_for_cpu()}.
     *
     * @throws DmaUsageException also when {@code [offset, offset + length)} is not inside the mapping
     */
    void syncForCpu(DmaMapping mapping, long offset, long length, DmaDirection direction);

    /** {@code dma_sync_single_for_device()}: the device may now read what the CPU wrote. */
    void syncForDevice(DmaMapping mapping, DmaDirection direction);

    /** {@code dma_sync_single_range_for_device()}. */
    void syncForDevice(DmaMapping mapping, long offset, long length, DmaDirection direction);

    /**
     * {@code dma_max_mapping_size()}: the largest single mapping. It is the bounce pool's limit (256 KiB,
     * less {@link #minAlignMask()}) when the device may need to bounce any memory (its mask does not cover
     * all memory, or it always bounces), and unlimited otherwise. Heap memory always bounces, so it is
     * limited to the pool's limit whatever this says.
     */
    long maxMappingSize();

    /**
     * {@code dma_set_min_align_mask()}: bounced mappings keep the bits of the original address under this
     * mask, as NVMe needs for its controller page offset (it sets {@code 4095}).
     *
     * @throws IllegalArgumentException unless the mask is 0 or {@code 2^n - 1} for n up to 16
     */
    void setMinAlignMask(long mask);

    long minAlignMask();

    /**
     * The live bounced mapping of this device whose bounce buffer holds {@code dmaAddress}. Direct mappings
     * carry no bookkeeping and are not found here; the coherent memory they often lie in is found by
     * {@link #findBuffer}.
     */
    Optional<DmaMapping> findMapping(long dmaAddress);

    /** Frees what the driver left allocated and detaches the device; using it afterwards throws. */
    @Override
    void close();
}
