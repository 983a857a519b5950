/**
 * The bounce-buffer pool of {@code kernel/dma/swiotlb.c}, in pure Java over the platform's page allocator;
 * copies go through {@link io.dmadirect.memory.RawMemory}.
 *
 * <h2>Layout</h2>
 * 2 KiB slots in 128-slot segments, so one mapping is at most 256 KiB
 * ({@link io.dmadirect.swiotlb.Swiotlb#maxMappingSize}). The default pool is taken when the platform is
 * built, 64 MiB unless configured ({@link io.dmadirect.spi.SwiotlbConfig}), from ZONE_DMA32 below
 * 4 GiB (falling back to ZONE_DMA, then, with a warning, to any memory), in chunks of whole segments up to
 * one frame. When the full size is not free it is halved until it fits, as the kernel does at boot. Under
 * memory encryption the pool is made shared once ({@code swiotlb_update_mem_attributes}), so bounce DMA
 * addresses carry no encryption bit.
 *
 * <h2>Placement</h2>
 * As mainline since 6.10 ({@code swiotlb_tbl_map_single()}, {@code swiotlb_search_pool_area()}): the bits of
 * the original under the device's {@code min_align_mask} are kept in the bounce buffer's DMA address, those
 * under a slot (or under {@code alloc_align_mask}) as an offset into the run, with whole slots of it taken as
 * padding slots in front that release frees too; the run starts with zero bits under {@code alloc_align_mask}
 * and is rounded up to a multiple of it + 1; with neither mask, a run of a page or more is page-aligned (6.9);
 * no run spans the device's DMA segment boundary ({@code dma_get_seg_boundary()}, 4 GiB for a PCI device).
 * Alignment and boundary are checked on DMA addresses.
 *
 * <h2>Concurrency</h2>
 * Each pool is split into areas (one per CPU by default, a power of two, whole segments each) with a lock
 * each; a thread starts its search in the area its identity picks and moves on when that one is full.
 *
 * <h2>Dynamic pools ({@code SWIOTLB_DYNAMIC})</h2>
 * With {@code dynamicMaxBytes > 0}, a mapping that finds no room in any pool within the device's reach
 * takes one more chunk from the page allocator below the device's limit, in the mapping thread, and keeps
 * it for later mappings until the platform closes. Growth stops at {@code dynamicMaxBytes} of extra
 * memory, and a caller that cannot block ({@link io.dmadirect.DmaAttr#ATOMIC}) never grows the pool. The
 * kernel's default is off, and so is ours.
 *
 * <h2>Where this differs from the kernel, and why</h2>
 * <ul>
 *   <li>A pool is used for a device only when it lies wholly within the device's reach; the kernel finds
 *       slots first and fails the mapping if they are out of reach.</li>
 *   <li>A search starts at the run freed last rather than after the run taken last, so a map/unmap loop
 *       copies into memory still in the CPU's cache.</li>
 *   <li>The pool may be several chunks rather than one contiguous block, since userspace holds hugepages,
 *       not a boot-time memblock range; no segment crosses a chunk. Alignment and the segment boundary are
 *       checked on each slot's own DMA address (its chunk's, through the device's dma-ranges) where the kernel
 *       adds the slot's index to one {@code phys_to_dma_unencrypted(pool->start) & boundary_mask}; for one
 *       contiguous pool and an {@code alloc_align_mask} no wider than the boundary the two are the same.</li>
 * </ul>
 */
package io.dmadirect.swiotlb;

import io.dmadirect.spi.SwiotlbConfig;
