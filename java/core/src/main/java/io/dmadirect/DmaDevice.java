package io.dmadirect;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * A device that does DMA: the {@code struct device} of the kernel's DMA API. It carries the masks
 * the driver set, and allocates coherent memory the device can reach.
 *
 * <h2>Threads and close</h2>
 * Every method may be called from any thread at once; allocation, mapping and syncing take no lock
 * shared with other devices. Once the device (or its platform) is closed, every operation that changes
 * or uses DMA state throws {@link DmaUsageException}: {@code alloc*} and {@code free*} (coherent, write-combined,
 * pages, non-coherent and non-contiguous memory, and the syncs and views of what they return),
 * {@code createPool} and its pools' allocations and frees, {@code map*} and {@code unmap*} (objects, primitive
 * addresses, scatter lists, resources), {@code sync*}, {@code find*}, and the setters {@code setDmaMask},
 * {@code setCoherentMask}, {@code setMinAlignMask}, {@code setSegBoundary} and {@code setMaxSegSize}.
 * Getters ({@code dmaMask}, {@code maxSegSize}, {@code needSync}, {@code addressingLimited}, ...) keep
 * answering. An operation that
 * began before close completes first: {@link #close()} waits for it (see {@link DmaPlatform} for the
 * whole contract).
 */
public interface DmaDevice extends AutoCloseable {

    /** {@return the device's name, as given in its properties; messages use it} */
    String name();

    /** {@return what the platform knows about the device's DMA: coherence, bus limit, ranges} */
    DeviceProperties properties();

    /** {@return the streaming mask ({@code *dev->dma_mask}); 32 bits until the driver sets it} */
    DmaMask dmaMask();

    /** {@return the coherent mask ({@code dev->coherent_dma_mask}); 32 bits until the driver sets it} */
    DmaMask coherentMask();

    /**
     * {@code dma_set_mask()}.
     *
     * @param mask the streaming mask: the address bits the device drives
     * @throws DmaMaskUnsupportedException when no memory of the platform, as the device addresses it through its
     *         dma-ranges, lies within the mask
     */
    void setDmaMask(DmaMask mask);

    /**
     * {@code dma_set_coherent_mask()}.
     *
     * @param mask the mask for coherent allocations
     * @throws DmaMaskUnsupportedException as {@link #setDmaMask}
     */
    void setCoherentMask(DmaMask mask);

    /**
     * {@code dma_set_mask_and_coherent()}: both masks, the streaming one first, as the kernel does.
     *
     * @param mask the mask for both
     * @throws DmaMaskUnsupportedException when no memory of the platform, as the device addresses it through its
     *         dma-ranges, lies within the mask
     */
    default void setMaskAndCoherent(DmaMask mask) {
        setDmaMask(mask);
        setCoherentMask(mask);
    }

    /** {@return {@code dma_get_required_mask()}: the smallest mask that reaches all memory of the system through this device} */
    DmaMask requiredMask();

    /** {@return whether DMA of this device must use unencrypted (shared) memory, as in a confidential VM guest} */
    boolean forcedUnencrypted();

    /**
     * {@code dma_alloc_attrs()}: zeroed memory the device can reach under its coherent mask and bus limit.
     *
     * @param size  bytes, at least 1
     * @param attrs {@link DmaAttr#ATOMIC}, {@link DmaAttr#NO_KERNEL_MAPPING}, {@link DmaAttr#SKIP_ZEROING}, or none;
     *              the others are accepted and ignored, as dma-direct ignores them ({@link DmaAttr#FORCE_CONTIGUOUS}
     *              holds anyway: every allocation is contiguous; see each attribute)
     * @return the buffer, with its DMA address, CPU view and {@link DmaBuffer#report() report}
     * @throws DmaAllocationException when no memory within reach is free
     */
    DmaBuffer allocCoherent(long size, DmaAttr... attrs);

    /**
     * {@link #allocCoherent(long, DmaAttr...)} with the attributes as {@link DmaAttr#flags} bits, as the primitive
     * streaming calls take them: a hot loop passes a constant and no array is made per call.
     *
     * @param size  bytes, at least 1
     * @param attrs {@link DmaAttr#flags} bits; 0 for none
     * @return the buffer
     * @throws DmaAllocationException when no memory within reach is free
     */
    DmaBuffer allocCoherent(long size, int attrs);

    /**
     * {@code dma_free_attrs()}; the same as {@link DmaBuffer#close()} while the device is open.
     *
     * @param buffer a buffer this device allocated
     * @throws DmaUsageException for a double free, a buffer of another device, or once the device is closed
     *         (its close freed the buffer already)
     */
    void freeCoherent(DmaBuffer buffer);

    /**
     * {@code dma_alloc_wc()}: {@link #allocCoherent} with {@link DmaAttr#WRITE_COMBINE}, which dmadirect accepts
     * and ignores (see there): the CPU view stays write-back cached. Free it with {@link #freeCoherent}
     * ({@code dma_free_wc()}).
     *
     * @param size  bytes, at least 1
     * @param attrs further attributes, as {@link #allocCoherent} takes them
     * @return the buffer
     * @throws DmaAllocationException when no memory within reach is free
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_alloc_wc</a>
     */
    default DmaBuffer allocWc(long size, DmaAttr... attrs) {
        DmaAttr[] withWc = java.util.Arrays.copyOf(attrs, attrs.length + 1);
        withWc[attrs.length] = DmaAttr.WRITE_COMBINE;
        return allocCoherent(size, withWc);
    }

    /**
     * {@code dma_alloc_pages()}: zeroed pages the device reaches under its coherent mask and bus limit, chosen as
     * {@link #allocCoherent} chooses (zones, fallback, contiguous allocator, the bounce pool of a restricted
     * device), but not prepared for the device: the memory is owned by the CPU and must be synced as
     * {@link NoncoherentBuffer} describes. A caller that cannot block takes the atomic pool only when the memory
     * must be shared (a forced-unencrypted device), since nothing needs remapping ({@code dma_direct_alloc_pages()}).
     *
     * @param size      bytes, at least 1; the whole page-aligned size is zeroed
     * @param direction who will write, for the syncs; not {@link DmaDirection#NONE}
     * @param attrs     {@link DmaAttr#ATOMIC} (the gfp's blocking), {@link DmaAttr#NO_WARN} (the gfp's
     *                  {@code __GFP_NOWARN}: a failure is thrown but not logged), {@link DmaAttr#SKIP_ZEROING}, or none.
     *                  The kernel call takes no DMA attributes, so any other is refused
     * @return the memory with its DMA address, CPU view and direction
     * @throws DmaAllocationException   when no memory within reach is free
     * @throws IllegalArgumentException for a size below 1, {@link DmaDirection#NONE} or another attribute
     * @throws DmaUsageException        once the device is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_alloc_pages</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_alloc_pages</a>
     */
    NoncoherentBuffer allocPages(long size, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_free_pages()}; the same as {@link NoncoherentBuffer#close()} while the device is open.
     *
     * @param buffer memory this device allocated with {@link #allocPages} or {@link #allocNoncoherent}
     * @throws DmaUsageException for a double free, another device's buffer, one from
     *                           {@link #allocNoncontiguous}, or once the device is closed (its close freed it)
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_free_pages</a>
     */
    void freePages(NoncoherentBuffer buffer);

    /**
     * {@code dma_alloc_noncoherent()}: {@link #allocPages} seen through its CPU address, which is what the kernel
     * function is; the same memory, rules and exceptions.
     *
     * @param size      bytes, at least 1
     * @param direction who will write, for the syncs
     * @param attrs     as {@link #allocPages}
     * @return the memory
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_alloc_noncoherent</a>
     */
    default NoncoherentBuffer allocNoncoherent(long size, DmaDirection direction, DmaAttr... attrs) {
        return allocPages(size, direction, attrs);
    }

    /**
     * {@code dma_free_noncoherent()}: {@link #freePages}.
     *
     * @param buffer memory this device allocated with {@link #allocNoncoherent} or {@link #allocPages}
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_free_noncoherent</a>
     */
    default void freeNoncoherent(NoncoherentBuffer buffer) {
        freePages(buffer);
    }

    /**
     * {@code dma_alloc_noncontiguous()}: for dma-direct, {@code alloc_single_sgt()}, one {@link #allocPages}
     * allocation in a table of one segment. In IOVA mode too: the IOVA-contiguous memory of that mode is already
     * non-contiguous pages at contiguous IOVAs, mapped when the platform mapped its memory; no new IOMMU mapping
     * is made per allocation, so the size is bounded by the largest free IOVA-contiguous run.
     *
     * @param size      bytes, at least 1
     * @param direction who will write, for the syncs; not {@link DmaDirection#NONE}
     * @param attrs     {@link DmaAttr#ALLOC_SINGLE_PAGES} (accepted and ignored, as dma-direct does), and as for
     *                  {@link #allocPages}; the kernel refuses every other DMA attribute, and so does this
     * @return the memory, with its one segment
     * @throws DmaAllocationException   when no memory within reach is free
     * @throws IllegalArgumentException for a size below 1, {@link DmaDirection#NONE} or another attribute
     * @throws DmaUsageException        once the device is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_alloc_noncontiguous</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">alloc_single_sgt</a>
     */
    NoncontiguousBuffer allocNoncontiguous(long size, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_free_noncontiguous()}; the same as {@link NoncontiguousBuffer#close()} while the device is open.
     *
     * @param buffer memory this device allocated with {@link #allocNoncontiguous}
     * @throws DmaUsageException for a double free, another device's buffer, one from {@link #allocPages}, or once
     *                           the device is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_free_noncontiguous</a>
     */
    void freeNoncontiguous(NoncontiguousBuffer buffer);

    /**
     * {@code dma_direct_to_page()}: the live buffer of this device whose memory holds {@code dmaAddress}.
     *
     * @param dmaAddress any address inside the buffer
     * @return the buffer, or empty when no live buffer of this device holds it
     */
    Optional<DmaBuffer> findBuffer(long dmaAddress);

    /**
     * {@code dma_pool_create()}: a pool of small coherent blocks of one size for this device, such as
     * descriptors or NVMe PRP lists (see {@link DmaPool}). The pool takes pages of coherent memory as it needs
     * them and keeps them until it is closed; closing the device closes its pools and frees their pages.
     *
     * @param name     for messages
     * @param size     bytes of each block, 1 to {@code Integer.MAX_VALUE}; raised to 16 and rounded up to
     *                 {@code align}
     * @param align    the blocks' alignment: a power of two, or 0 for none
     * @param boundary a power of two, no smaller than the block, that no block may cross; 0 for none
     * @return the pool; close it ({@code dma_pool_destroy()}) when its blocks are all freed
     * @throws IllegalArgumentException where the kernel's {@code dma_pool_create()} returns NULL: a size out of
     *                                  range, an alignment or boundary that is not a power of two, a boundary
     *                                  smaller than the block
     * @throws DmaUsageException        once the device is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">dma_pool_create</a>
     */
    DmaPool createPool(String name, long size, long align, long boundary);

    /**
     * {@code dma_map_single()} of the buffer's {@code [position, limit)}, which must stay untouched by the
     * CPU until it is synced or unmapped as {@link DmaMapping} describes. The mapping is direct when the
     * buffer is pinned DMA memory (such as a {@link DmaBuffer}'s CPU view) that the device reaches under
     * its streaming mask and bus limit ({@code dma_capable}, the SME encryption bit included), and, for a
     * device that is not cache-coherent, shares no cache line with other data unless it is
     * {@link DmaDirection#TO_DEVICE} ({@code dma_kmalloc_needs_bounce}; see {@code dma_get_cache_alignment});
     * otherwise, and always for heap buffers, for {@code swiotlb=force}, restricted pools and in a
     * confidential guest ({@code is_swiotlb_force_bounce}), it bounces. The buffer's position is not
     * changed, and the buffer is kept reachable until the mapping is unmapped.
     *
     * @param buffer    a direct or heap buffer; its {@code [position, limit)} is mapped
     * @param direction who writes: {@link DmaDirection#TO_DEVICE}, {@link DmaDirection#FROM_DEVICE} or
     *                  {@link DmaDirection#BIDIRECTIONAL}
     * @return the mapping; close it to unmap
     * @throws IllegalArgumentException for an empty buffer, {@link DmaDirection#NONE}, or a read-only
     *                                  buffer the device would write
     * @throws DmaMappingException      when the mapping must bounce and is larger than the bounce pool's
     *                                  limit ({@code swiotlb_max_mapping_size}), or the pool is full; the
     *                                  message gives the pool's state. A direct mapping has no size limit:
     *                                  {@link #maxMappingSize()} is advice, as in the kernel
     */
    default DmaMapping map(ByteBuffer buffer, DmaDirection direction) {
        return map(buffer, direction, new DmaAttr[0]);
    }

    /**
     * {@code dma_map_single_attrs()}: as {@link #map(ByteBuffer, DmaDirection)}, with attributes such as
     * {@link DmaAttr#SKIP_CPU_SYNC}.
     *
     * @param buffer    a direct or heap buffer; its {@code [position, limit)} is mapped
     * @param direction who writes
     * @param attrs     the attributes, possibly none
     * @return the mapping; close it to unmap
     */
    DmaMapping map(ByteBuffer buffer, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_map_single()} of {@code array[offset, offset + length)}. Heap memory moves, so this
     * always bounces; the low bits kept under {@link #minAlignMask()} are those of {@code offset}.
     *
     * @param array     the heap memory
     * @param offset    the first byte mapped
     * @param length    the bytes mapped, at most the bounce pool's limit
     * @param direction who writes
     * @param attrs     the attributes, possibly none
     * @return the (bounced) mapping; close it to unmap
     */
    DmaMapping map(byte[] array, int offset, int length, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_map_sg()}: maps each buffer as {@link #map(ByteBuffer, DmaDirection, DmaAttr...)} does and
     * returns one segment per buffer. When one fails, those already mapped are unmapped and the error
     * names the failing segment.
     *
     * @param buffers   the buffers, each mapped over its {@code [position, limit)}
     * @param direction who writes, the same for every segment
     * @param attrs     the attributes, possibly none
     * @return the list; close it to unmap every segment
     */
    ScatterList mapSg(List<ByteBuffer> buffers, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_unmap_single()}: syncs for the CPU (copies back what a bounced mapping's device wrote), then
     * releases it. The same as {@link #unmap(DmaMapping, DmaAttr...)} with no attributes, whatever attributes
     * the mapping was made with.
     *
     * @param mapping a live mapping of this device
     * @throws DmaUsageException for a mapping already unmapped, or another device's
     */
    void unmap(DmaMapping mapping);

    /**
     * {@code dma_unmap_single_attrs()}: the unmap's own attributes decide its CPU sync, not the map's. With
     * {@link DmaAttr#SKIP_CPU_SYNC} the unmap neither syncs caches nor copies a bounce buffer back (the driver
     * synced for the CPU already); without it, it does both, even for a mapping made with
     * {@code SKIP_CPU_SYNC} (which skipped only the map-time sync). So "sync at map, skip at unmap" and the
     * reverse can both be said.
     *
     * @param mapping a live mapping of this device
     * @param attrs   {@link DmaAttr#SKIP_CPU_SYNC}, or none
     * @throws DmaUsageException for a mapping already unmapped, or another device's
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_unmap_page_attrs</a>
     */
    void unmap(DmaMapping mapping, DmaAttr... attrs);

    /**
     * {@code dma_sync_single_for_cpu()}: the CPU may now read what the device wrote.
     *
     * @param mapping   a live mapping of this device
     * @param direction the mapping's; any direction for a {@link DmaDirection#BIDIRECTIONAL} mapping, as the
     *                  kernel's dma-debug ({@code check_sync}) allows, and the sync then does what this direction asks
     * @throws DmaUsageException for an unmapped mapping, another device's, or another direction than a
     *                           one-way mapping's
     * @throws IllegalArgumentException for {@link DmaDirection#NONE}
     */
    void syncForCpu(DmaMapping mapping, DmaDirection direction);

    /**
     * {@code dma_sync_single_range_for_cpu()}.
     *
     * @param mapping   a live mapping of this device
     * @param offset    from the start of the mapping
     * @param length    bytes to sync
     * @param direction the mapping's, or any for a {@link DmaDirection#BIDIRECTIONAL} mapping
     * @throws DmaUsageException also when {@code [offset, offset + length)} is not inside the mapping
     * @throws IllegalArgumentException for {@link DmaDirection#NONE}
     */
    void syncForCpu(DmaMapping mapping, long offset, long length, DmaDirection direction);

    /**
     * {@code dma_sync_single_for_device()}: the device may now read what the CPU wrote.
     *
     * @param mapping   a live mapping of this device
     * @param direction the mapping's, or any for a {@link DmaDirection#BIDIRECTIONAL} mapping
     * @throws DmaUsageException for an unmapped mapping, another device's, or another direction than a
     *                           one-way mapping's
     * @throws IllegalArgumentException for {@link DmaDirection#NONE}
     */
    void syncForDevice(DmaMapping mapping, DmaDirection direction);

    /**
     * {@code dma_sync_single_range_for_device()}.
     *
     * @param mapping   a live mapping of this device
     * @param offset    from the start of the mapping
     * @param length    bytes to sync
     * @param direction the mapping's, or any for a {@link DmaDirection#BIDIRECTIONAL} mapping
     * @throws DmaUsageException also when {@code [offset, offset + length)} is not inside the mapping
     * @throws IllegalArgumentException for {@link DmaDirection#NONE}
     */
    void syncForDevice(DmaMapping mapping, long offset, long length, DmaDirection direction);

    /**
     * {@code dma_max_mapping_size()}: the largest mapping that is sure to succeed. It is the bounce pool's
     * limit (256 KiB, less {@link #minAlignMask()}) when the device may need to bounce any memory (its mask
     * does not cover all memory, or it always bounces), and unlimited otherwise. It is advice, as in the
     * kernel: a larger mapping of memory the device reaches is made directly; only a mapping that bounces is
     * refused above the pool's limit. Heap memory always bounces, so it is limited to the pool's limit
     * whatever this says.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_max_mapping_size</a>
     * @return bytes, or {@code Long.MAX_VALUE} for no limit
     */
    long maxMappingSize();

    /**
     * {@code dma_set_min_align_mask()}: bounced mappings keep the bits of the original address under this
     * mask, as NVMe needs for its controller page offset (it sets {@code 4095}).
     *
     * @param mask 0 or {@code 2^n - 1}
     * @throws IllegalArgumentException unless the mask is 0 or {@code 2^n - 1} for n up to 16
     */
    void setMinAlignMask(long mask);

    /** {@return the mask set by {@link #setMinAlignMask}; 0 until then} */
    long minAlignMask();

    /**
     * The live bounced mapping of this device whose bounce buffer holds {@code dmaAddress}. Direct mappings
     * carry no bookkeeping and are not found here; the coherent memory they often lie in is found by
     * {@link #findBuffer}.
     *
     * @param dmaAddress any address inside the bounce buffer
     * @return the mapping, or empty
     */
    Optional<DmaMapping> findMapping(long dmaAddress);

    // ---- The primitive streaming API (issue 17): dma_map_single() and friends with DMA addresses as longs.
    // No object is allocated per map+unmap; attributes are DmaAttr.flags(...) bits. A direct mapping carries no
    // state (its unmap on a coherent device does nothing, as in the kernel): the caller keeps the memory alive
    // until the unmap. A bounced mapping is found again from its address; its slot holds the buffer. See
    // docs/guide.md, "The primitive streaming API".

    /**
     * {@code dma_map_single_attrs()} of {@code [offset, offset + length)} of {@code buffer} (absolute indices; the
     * position and limit are not read). A direct buffer in pinned DMA memory the device reaches maps directly;
     * anything else, a heap buffer included, bounces.
     *
     * @param buffer    the memory: a direct buffer, or a writable heap buffer (which always bounces)
     * @param offset    the first byte mapped, as an index into {@code buffer}
     * @param length    the bytes mapped, at least 1
     * @param direction who writes: {@code TO_DEVICE}, {@code FROM_DEVICE} or {@code BIDIRECTIONAL}
     * @param attrs     {@link DmaAttr#flags} bits ({@code NO_WARN}, {@code SKIP_CPU_SYNC}, {@code ATOMIC}); 0 for none
     * @return the DMA address to give the device
     * @throws DmaMappingException      when the mapping cannot be made (a full bounce pool, memory out of reach)
     * @throws IllegalArgumentException for a bad range, a {@code NONE} direction, or a read-only buffer the
     *                                  device would write
     * @throws DmaUsageException        once the device is closed
     */
    long mapSingle(ByteBuffer buffer, int offset, int length, DmaDirection direction, int attrs);

    /**
     * {@code dma_map_single_attrs()} of a raw CPU address, accepted only inside the pinned memory the platform
     * holds (memory from {@link #allocCoherent}, a platform's own runs): an address it cannot check could crash
     * the JVM when bounced.
     *
     * @param cpuAddress the first byte mapped
     * @param size       the bytes mapped, at least 1
     * @param direction  who writes
     * @param attrs      {@link DmaAttr#flags} bits; 0 for none
     * @return the DMA address to give the device
     * @throws IllegalArgumentException when the platform holds no pinned memory at {@code [cpuAddress, +size)}
     * @throws DmaMappingException      when the mapping cannot be made
     * @throws DmaUsageException        once the device is closed
     */
    long mapSingle(long cpuAddress, long size, DmaDirection direction, int attrs);

    /**
     * {@code dma_unmap_single_attrs()}. {@code SKIP_CPU_SYNC} here skips the unmap's cache maintenance and the copy
     * back of a bounce.
     *
     * @param dmaAddress the address {@code mapSingle} returned
     * @param size       the size mapped; a bounce copies back this many bytes
     * @param direction  the direction mapped
     * @param attrs      the unmap's own {@link DmaAttr#flags} bits; 0 for none
     * @throws DmaUsageException for a bounce address that is not a live mapping's start, a size larger than the
     *                           mapping's, the wrong direction, a double unmap of a bounce, an address of no memory
     *                           the platform holds on a non-coherent device, or once the device is closed
     */
    void unmapSingle(long dmaAddress, long size, DmaDirection direction, int attrs);

    /**
     * {@code dma_sync_single_for_cpu()}; any address inside a mapping may be given, as
     * {@code dma_sync_single_range_for_cpu()} passes {@code addr + offset}.
     *
     * @param dmaAddress an address inside a mapping
     * @param size       the bytes to sync from there, inside the mapping
     * @param direction  the sync's direction (a {@code BIDIRECTIONAL} mapping may be synced either way)
     * @throws DmaUsageException for a bounce range outside a live mapping, the wrong direction, or after close
     */
    void syncSingleForCpu(long dmaAddress, long size, DmaDirection direction);

    /**
     * {@code dma_sync_single_for_device()}; any address inside a mapping may be given.
     *
     * @param dmaAddress an address inside a mapping
     * @param size       the bytes to sync from there, inside the mapping
     * @param direction  the sync's direction
     * @throws DmaUsageException for a bounce range outside a live mapping, the wrong direction, or after close
     */
    void syncSingleForDevice(long dmaAddress, long size, DmaDirection direction);

    /**
     * {@code dma_map_sg_attrs()} without a list object: buffer {@code i}'s {@code [position, limit)} is mapped and
     * its DMA address written to {@code dmaAddressesOut[i]}, for {@code i < nents}. A segment longer than
     * {@link #maxSegSize()}, or crossing the {@link #segBoundary()}, is refused; on any failure the segments
     * mapped before it are unmapped.
     *
     * @param buffers         the segments
     * @param nents           how many of {@code buffers} to map, at least 1
     * @param direction       who writes
     * @param attrs           {@link DmaAttr#flags} bits; 0 for none
     * @param dmaAddressesOut receives each segment's DMA address
     * @return {@code nents} (dma-direct merges no segments)
     * @throws DmaMappingException naming the failing segment
     */
    int mapSg(ByteBuffer[] buffers, int nents, DmaDirection direction, int attrs, long[] dmaAddressesOut);

    /**
     * {@code dma_unmap_sg_attrs()}: every segment unmapped; the first failure is thrown after all were tried.
     *
     * @param dmaAddresses the addresses {@code mapSg} wrote
     * @param lengths      each segment's length
     * @param nents        the {@code nents} given to {@code mapSg}
     * @param direction    the direction mapped
     * @param attrs        the unmap's own {@link DmaAttr#flags} bits; 0 for none
     */
    void unmapSg(long[] dmaAddresses, int[] lengths, int nents, DmaDirection direction, int attrs);

    /**
     * {@code dma_sync_sg_for_cpu()}.
     *
     * @param dmaAddresses the addresses {@code mapSg} wrote
     * @param lengths      each segment's length
     * @param nents        the {@code nents} given to {@code mapSg}
     * @param direction    the sync's direction
     */
    void syncSgForCpu(long[] dmaAddresses, int[] lengths, int nents, DmaDirection direction);

    /**
     * {@code dma_sync_sg_for_device()}.
     *
     * @param dmaAddresses the addresses {@code mapSg} wrote
     * @param lengths      each segment's length
     * @param nents        the {@code nents} given to {@code mapSg}
     * @param direction    the sync's direction
     */
    void syncSgForDevice(long[] dmaAddresses, int[] lengths, int nents, DmaDirection direction);

    /**
     * {@code dma_need_sync()}: whether syncs of the mapping at {@code dmaAddress} do anything; false only for a
     * coherent device's direct mapping. A driver may skip its syncs when false.
     *
     * @param dmaAddress an address a mapping of this device returned
     * @return false when the syncs of that mapping are no-ops
     */
    boolean needSync(long dmaAddress);

    /** {@return {@code dma_opt_mapping_size()}: for dma-direct, {@link #maxMappingSize()}} */
    long optMappingSize();

    /** {@return {@code dma_addressing_limited()}: whether the device cannot reach all memory, so mappings may bounce} */
    boolean addressingLimited();

    /** {@return {@code dma_get_cache_alignment()}: the alignment that keeps a non-coherent device's buffers off shared cache lines} */
    long cacheAlignment();

    /**
     * {@code dma_set_seg_boundary()}: no segment of a scatter-gather mapping, and no bounce buffer, crosses a
     * multiple of {@code mask + 1}.
     *
     * @param mask {@code 2^n - 1}, or -1 for none
     * @throws IllegalArgumentException when {@code mask} is not {@code 2^n - 1}
     */
    void setSegBoundary(long mask);

    /** {@return {@code dma_get_seg_boundary()}: {@code 0xffffffff} until set, as {@code pci_device_add()} leaves it} */
    long segBoundary();

    /**
     * {@code dma_set_max_seg_size()}.
     *
     * @param size the longest segment the device takes, {@code 1..0xffffffff}
     * @throws IllegalArgumentException unless {@code 1 <= size <= 0xffffffff}
     */
    void setMaxSegSize(long size);

    /** {@return {@code dma_get_max_seg_size()}: 64 KiB until set, as {@code pci_device_add()} leaves it} */
    long maxSegSize();

    /**
     * {@code dma_map_resource()}: the DMA address at which this device reaches {@code size} bytes of MMIO at
     * CPU physical address {@code physAddress}, typically another device's BAR (peer-to-peer). As dma-direct
     * does ({@code dma_direct_map_phys()} with {@code DMA_ATTR_MMIO}), the DMA address is the physical
     * address itself: no dma-ranges offset is applied, no cache is maintained, nothing bounces. It is refused
     * when the device cannot reach all of it ({@code dma_capable()} against the streaming mask and the bus
     * limit), and when every mapping of the device must bounce (swiotlb=force, a restricted pool, a
     * confidential guest), since MMIO cannot be copied through a bounce buffer. Nothing is recorded: the
     * address is only checked.
     *
     * <p>PA mode only. In IOVA mode a process cannot map a physical address into the IOMMU (VFIO maps this
     * process's virtual memory), so this throws; map another device's BAR with
     * {@code io.dmadirect.host.PciSession#mapPeerBar}, which maps the BAR's CPU mapping into the IOMMU.
     *
     * @param physAddress the CPU physical address of the MMIO (a BAR's start from sysfs {@code resource}, plus an
     *                    offset)
     * @param size        bytes, at least 1
     * @param direction   who writes; not {@link DmaDirection#NONE}
     * @param attrs       attributes; none changes the result here ({@code SKIP_CPU_SYNC} is implied for MMIO)
     * @return the DMA address to give the device
     * @throws IllegalArgumentException for a size below 1, a range that wraps past 2^64, or {@link DmaDirection#NONE}
     * @throws DmaMappingException      when the device cannot reach the range, every mapping must bounce, or the
     *                                  device is in IOVA mode; the message says which
     * @throws DmaUsageException        once the device is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_map_resource</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_map_phys</a>
     */
    long mapResource(long physAddress, long size, DmaDirection direction, DmaAttr... attrs);

    /**
     * {@code dma_unmap_resource()}: ends the use of an address from {@link #mapResource}. dma-direct keeps no
     * state for it, so this only checks the arguments, as the kernel's {@code BUG_ON(!valid_dma_direction)} does.
     *
     * @param dmaAddress the address {@link #mapResource} returned
     * @param size       the size it was mapped with
     * @param direction  the direction it was mapped with; not {@link DmaDirection#NONE}
     * @param attrs      attributes, possibly none
     * @throws IllegalArgumentException for a size below 1 or {@link DmaDirection#NONE}
     * @throws DmaUsageException        once the device is closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_unmap_resource</a>
     */
    void unmapResource(long dmaAddress, long size, DmaDirection direction, DmaAttr... attrs);

    /**
     * Refuses new operations, waits for those running, frees what the driver left allocated (buffers,
     * bounce buffers of mappings), marks every mapping and scatter list unmapped, and detaches the device;
     * using it afterwards throws {@link DmaUsageException}. Idempotent; a second caller waits for the first.
     *
     * @throws DmaUsageException when running operations did not finish in time (10 s): nothing is freed then
     */
    @Override
    void close();
}
