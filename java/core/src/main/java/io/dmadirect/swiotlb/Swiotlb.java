package io.dmadirect.swiotlb;

import io.dmadirect.spi.SwiotlbConfig;

import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.spi.MemoryEncryption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The bounce-buffer pool ({@code struct io_tlb_mem} of {@code kernel/dma/swiotlb.c}): memory every device
 * can reach, taken once when the platform is built, into which streaming mappings the device cannot
 * reach directly are copied.
 *
 * <p>The pool is 2 KiB slots ({@code IO_TLB_SIZE}) in segments of 128 ({@code IO_TLB_SEGSIZE}), so one
 * mapping is at most 256 KiB. Its memory is taken in chunks of whole segments, below 4 GiB as far as
 * {@link BouncePlacement} gives it low memory and the rest wholly above 4 GiB. Each pool is split into areas with a lock each, and a thread
 * starts its search in its own area, so mappings on different threads rarely meet on a lock.
 *
 * <p>A mapping is a {@code long} handle: bits 0..10 the offset kept from the original address inside the
 * first mapped slot ({@code min_align_mask}), bits 11..18 the slots of the whole run (padding slots in front
 * included), bits 19..50 the first mapped slot (after the padding, the kernel's {@code tlb_addr}), bits 51..62
 * the pool number plus one. The padding slots in front ({@code pad_slots}) are recorded in the pool at the first
 * mapped slot, as the kernel records them in {@code io_tlb_slot}, so that release frees them too.
 * {@link #NONE} is never a handle.
 *
 * <p>Where a mapping goes, as {@code swiotlb_tbl_map_single()} and {@code swiotlb_search_pool_area()} decide it
 * (mainline since 6.10, the page-alignment rule since 6.9):
 * <ul>
 *   <li>{@code offset = orig & min_align_mask & (alloc_align_mask | (IO_TLB_SIZE - 1))}: the bytes in front of
 *       the mapping in its run; whole slots of it are padding slots, the rest the offset inside the first mapped slot.</li>
 *   <li>The run is {@code ALIGN(size + offset, alloc_align_mask + 1)} bytes, in whole slots.</li>
 *   <li>With neither {@code alloc_align_mask} nor {@code min_align_mask}, a run of {@code PAGE_SIZE} or more is
 *       page-aligned.</li>
 *   <li>The run's first slot has zero bits under {@code alloc_align_mask} (widened to a slot), and the same bits
 *       as the original under the rest of {@code min_align_mask}; both in DMA addresses.</li>
 *   <li>No run spans a multiple of the device's segment boundary ({@code dma_get_seg_boundary()}).</li>
 * </ul>
 */
public final class Swiotlb implements AutoCloseable {
    public static final int SLOT_SHIFT = 11;
    /** {@code IO_TLB_SIZE}. */
    public static final int SLOT_SIZE = 1 << SLOT_SHIFT;
    /** {@code IO_TLB_SEGSIZE}: slots in a segment; no mapping crosses one. */
    public static final int SEGMENT_SLOTS = 128;
    public static final long SEGMENT_BYTES = (long) SLOT_SIZE * SEGMENT_SLOTS;
    /** What {@link #mapSingle} returns when no slots fit. */
    public static final long NONE = 0L;
    /**
     * The segment boundary {@code pci_device_add()} gives every PCI device ({@code dma_set_seg_boundary(dev,
     * 0xffffffff)}): no bounce buffer crosses a 4 GiB multiple.
     */
    public static final long PCI_SEG_BOUNDARY = 0xffff_ffffL;
    /** {@code dma_get_seg_boundary()} of a device without {@code dma_parms}: {@code ULONG_MAX}, no boundary. */
    public static final long NO_SEG_BOUNDARY = -1L;

    private static final System.Logger LOG = System.getLogger("io.dmadirect.swiotlb");
    private static final long PAGE_SIZE = PageAllocator.PAGE_SIZE;
    private static final long LOW_4G = 0xffff_ffffL;

    private final SwiotlbConfig config;
    private final PageAllocator pages;
    private final MemoryEncryption encryption;
    private final boolean share;
    private final long chunkBytes;
    private final Object growLock = new Object();
    private volatile SlotPool[] pools;
    private long dynamicBytes;
    private final AtomicLong highWater = new AtomicLong();
    /** The syncs' copies; a map's and an unmap's are counted by their area, under the lock they take anyway. */
    private final LongAdder bytesToDevice = new LongAdder();
    private final LongAdder bytesFromDevice = new LongAdder();
    private volatile boolean closed;

    private Swiotlb(SwiotlbConfig config, PageAllocator pages, MemoryEncryption encryption, boolean share,
            long chunkBytes, SlotPool[] made) {
        this.config = config;
        this.pages = pages;
        this.encryption = encryption;
        this.share = share;
        this.chunkBytes = chunkBytes;
        this.pools = made;
    }

    /**
     * {@code swiotlb_init_remap()} and {@code swiotlb_update_mem_attributes()}: takes the default pool from
     * the page allocator and, when memory is encrypted, makes it shared with devices. Where it goes is
     * {@link BouncePlacement}: below 4 GiB as the kernel's {@code memblock_alloc_low()}, scaled to the low
     * memory held, and the rest wholly above 4 GiB; no part straddles 4 GiB, so a pool that serves no
     * 32-bit device takes nothing below it. When a part cannot be had, its size is halved until it can,
     * down to one segment, as the kernel does at boot.
     *
     * @param share make the memory shared (decrypted): a confidential guest, or a host with SME
     * @return the pool, or null when {@code config.bytes()} is 0 or not even one segment was free
     */
    public static Swiotlb create(SwiotlbConfig config, PageAllocator pages, long frameSize, MemoryEncryption encryption,
            boolean share) {
        config = BounceOverrides.apply(config);
        if (config.bytes() == 0) {
            return null;
        }
        io.dmadirect.MemoryStats held = pages.stats();
        BouncePlacement placement = BouncePlacement.of(config.bytes(),
                held.zone(Zone.DMA).total() + held.zone(Zone.DMA32).total(), held.zone(Zone.NORMAL).total());
        List<SlotPool> made = new ArrayList<>();
        // The high part first: devices that reach it search it first and leave the low part to those that need it.
        SlotPool high = takeHalving(made.size(), pages, encryption, share, placement.highBytes(), frameSize, config.areas(),
                false);
        if (high != null) {
            made.add(high);
        }
        SlotPool low = takeHalving(made.size(), pages, encryption, share, placement.lowBytes(), frameSize, config.areas(),
                true);
        if (low != null) {
            made.add(low);
        }
        if (made.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "swiotlb: no memory for a bounce pool; mappings that need one will fail");
            return null;
        }
        long bytes = alignUp(config.bytes(), SEGMENT_BYTES);
        long got = made.stream().mapToLong(p -> (long) p.nslots * SLOT_SIZE).sum();
        LOG.log(System.Logger.Level.DEBUG, "swiotlb: bounce pool " + Sizes.format(got)
                + (low == null ? "" : ", below 4 GiB " + Sizes.hex(low.firstPhys()) + ".." + Sizes.hex(low.lastPhys()))
                + (high == null ? "" : ", above 4 GiB " + Sizes.hex(high.firstPhys()) + ".." + Sizes.hex(high.lastPhys()))
                + (low != null ? "" : "; 32-bit devices bounce only through extra pools taken below their limit"
                        + (config.dynamicMaxBytes() > 0 ? "" : ", which are off (SwiotlbConfig.withDynamicMax)")));
        if (got < bytes) {
            LOG.log(System.Logger.Level.WARNING, "swiotlb: wanted " + Sizes.format(bytes) + " for the bounce pool, got "
                    + Sizes.format(got) + "; mappings that bounce will fail sooner");
        }
        long chunk = high != null ? high.chunkBytes : low.chunkBytes;
        return new Swiotlb(config, pages, encryption, share, chunk, made.toArray(new SlotPool[0]));
    }

    /** One part of the default pool, wholly below 4 GiB or wholly above it, halved until it fits. */
    private static SlotPool takeHalving(int id, PageAllocator pages, MemoryEncryption encryption, boolean share,
            long bytes, long frameSize, int areas, boolean low) {
        for (long want = bytes; want >= SEGMENT_BYTES; want = alignUp(want / 2, SEGMENT_BYTES)) {
            long chunkSize = chunkBytes(want, frameSize);
            SlotPool pool = takePool(id, pages, encryption, share, alignUp(want, chunkSize), chunkSize, areas,
                    low ? LOW_4G : PageAllocator.NO_LIMIT, true, false, low ? Zone.DMA32 : Zone.NORMAL);
            if (pool != null || want == SEGMENT_BYTES) {
                return pool;
            }
        }
        return null;
    }

    /**
     * Chunks are powers of two of at least a segment and at most a frame (or one segment of contiguous
     * frames when frames are smaller); the pool is rounded up to whole chunks.
     */
    static long chunkBytes(long poolBytes, long frameSize) {
        return Math.max(SEGMENT_BYTES, Math.min(frameSize, Long.highestOneBit(poolBytes)));
    }

    /**
     * Takes {@code bytes} in chunks of {@code zone} below {@code physLimit}. ZONE_DMA32 falls back to
     * ZONE_DMA; ZONE_NORMAL takes only ZONE_NORMAL for the default pool ({@code onlyZone}), and falls back
     * like the kernel's zonelist for an extra pool.
     */
    private static SlotPool takePool(int id, PageAllocator pages, MemoryEncryption encryption, boolean share, long bytes,
            long chunkBytes, int areas, long physLimit, boolean mayGrow, boolean dynamic, Zone zone) {
        int count = (int) (bytes / chunkBytes);
        long[] handles = new long[count];
        long[] phys = new long[count];
        long[] cpu = new long[count];
        for (int i = 0; i < count; i++) {
            long handle = takeChunk(pages, chunkBytes, physLimit, mayGrow, zone, !dynamic);
            if (handle != PageAllocator.NO_PAGES && share && !encryption.setDecrypted(pages.physAddress(handle), chunkBytes)) {
                // The memory's state is unknown: never hand it back to the allocator.
                LOG.log(System.Logger.Level.WARNING, "swiotlb: set_memory_decrypted failed for "
                        + Sizes.hex(pages.physAddress(handle)) + "; leaking " + Sizes.format(chunkBytes));
                handle = PageAllocator.NO_PAGES;
            }
            if (handle == PageAllocator.NO_PAGES) {
                for (int j = 0; j < i; j++) {
                    giveBack(pages, encryption, share, handles[j], phys[j], chunkBytes);
                }
                return null;
            }
            handles[i] = handle;
            phys[i] = pages.physAddress(handle);
            cpu[i] = pages.cpuAddress(handle);
        }
        return new SlotPool(id, chunkBytes, handles, phys, cpu, areas, share, dynamic);
    }

    private static long takeChunk(PageAllocator pages, long chunkBytes, long physLimit, boolean mayGrow, Zone zone,
            boolean onlyZone) {
        long handle = allocIn(pages, zone, chunkBytes, physLimit, mayGrow);
        if (handle != PageAllocator.NO_PAGES && onlyZone && zone == Zone.NORMAL && pages.zone(handle) != Zone.NORMAL) {
            // The allocator fell back below 4 GiB: low memory is not for a pool that serves no 32-bit device.
            pages.free(handle);
            return PageAllocator.NO_PAGES;
        }
        return handle;
    }

    /** The zone an extra pool for a device limited to {@code physLimit} is taken from first ({@code swiotlb_alloc_tlb}). */
    private static Zone zoneFor(long physLimit) {
        return Long.compareUnsigned(physLimit, LOW_4G) <= 0 ? Zone.DMA32 : Zone.NORMAL;
    }

    private static long allocIn(PageAllocator pages, Zone zone, long bytes, long limit, boolean mayGrow) {
        return bytes > pages.maxPagesBytes() ? pages.allocContiguous(zone, bytes, limit, mayGrow)
                : pages.allocPages(zone, bytes, limit, mayGrow);
    }

    private static void giveBack(PageAllocator pages, MemoryEncryption encryption, boolean share, long handle, long phys,
            long bytes) {
        if (share && !encryption.setEncrypted(phys, bytes)) {
            LOG.log(System.Logger.Level.WARNING, "swiotlb: set_memory_encrypted failed for " + Sizes.hex(phys)
                    + "; leaking " + Sizes.format(bytes));
            return;
        }
        pages.free(handle);
    }

    public SwiotlbConfig config() {
        return config;
    }

    /** {@code is_swiotlb_force_bounce()} for devices of the default pool: {@code swiotlb=force}. */
    public boolean forceBounce() {
        return config.force();
    }

    /**
     * {@code swiotlb_max_mapping_size()}: one segment, less what {@code min_align_mask} may skip at the start.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_max_mapping_size</a>
     */
    public static long maxMappingSize(long minAlignMask) {
        long minAlign = minAlignMask == 0 ? 0 : alignUp(minAlignMask, SLOT_SIZE);
        return SEGMENT_BYTES - minAlign;
    }

    /**
     * {@code swiotlb_tbl_map_single()} without the copy, for a device with no segment boundary and no dma-ranges.
     *
     * @see #mapSingle(long, long, long, long, long, long, boolean, java.util.function.LongUnaryOperator)
     */
    public long mapSingle(long origAddr, long size, long minAlignMask, long allocAlignMask, long physLimit,
            boolean mayGrow) {
        return mapSingle(origAddr, size, minAlignMask, allocAlignMask, NO_SEG_BOUNDARY, physLimit, mayGrow, null);
    }

    /**
     * {@link #mapSingle(long, long, long, long, long, long, boolean, java.util.function.LongUnaryOperator)} with
     * the segment boundary every PCI device has ({@link #PCI_SEG_BOUNDARY}).
     */
    public long mapSingle(long origAddr, long size, long minAlignMask, long allocAlignMask, long physLimit,
            boolean mayGrow, java.util.function.LongUnaryOperator physToDma) {
        return mapSingle(origAddr, size, minAlignMask, allocAlignMask, PCI_SEG_BOUNDARY, physLimit, mayGrow, physToDma);
    }

    /**
     * {@code swiotlb_tbl_map_single()} without the copy: takes a run of slots for {@code size} bytes whose
     * mapping keeps the bits of {@code origAddr} under {@code minAlignMask} (NVMe needs the offset inside its
     * controller page kept), whose run starts with zero bits under {@code allocAlignMask}, with padding slots in
     * front where the kept bits need more than a slot, and which crosses no segment boundary. The alignment and
     * the boundary are checked on each slot's DMA address, as {@code swiotlb_search_pool_area()} computes slot
     * addresses from {@code phys_to_dma_unencrypted(dev, pool->start)}, so the address the device is given keeps
     * the original's bits even when a dma-range moves memory by an amount that is not a multiple of the alignment.
     *
     * @param origAddr        the original's address, whose low bits are kept. Unlike the kernel, 0 is compared
     *                        too: the kernel skips the check for {@code orig_addr == 0}, which only
     *                        {@code swiotlb_alloc()} passes ({@link #alloc}), while here a heap array's offset 0
     *                        is a real original whose zero bits {@code DmaDevice.map(byte[], ...)} promises to keep
     * @param minAlignMask    {@code dma_get_min_align_mask()}
     * @param allocAlignMask  {@code alloc_align_mask}: bits that are zero in the run's first slot; the run is
     *                        rounded up to a multiple of {@code allocAlignMask + 1}
     * @param segBoundaryMask {@code dma_get_seg_boundary()}, {@code 2^k - 1} or {@link #NO_SEG_BOUNDARY}
     * @param physLimit       pools reaching above this (unsigned) are skipped, and extra pools are taken below it
     * @param mayGrow         whether an extra pool may be taken when none has room ({@code SWIOTLB_DYNAMIC})
     * @param physToDma       the device's {@code phys_to_dma_unencrypted()}, or null when DMA addresses equal physical ones
     * @return a handle, or {@link #NONE} when nothing fits
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_tbl_map_single</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_find_slots</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_search_pool_area</a>
     */
    public long mapSingle(long origAddr, long size, long minAlignMask, long allocAlignMask, long segBoundaryMask,
            long physLimit, boolean mayGrow, java.util.function.LongUnaryOperator physToDma) {
        return mapSingle(origAddr, size, minAlignMask, allocAlignMask, segBoundaryMask, physLimit, mayGrow, physToDma, 0);
    }

    /**
     * {@code swiotlb_tbl_map_single()} for a streaming map that copies {@code size} bytes in next
     * ({@link #copyInAtMap}): as {@link #mapSingle(long, long, long, long, long, long, boolean,
     * java.util.function.LongUnaryOperator)}, with the copy counted in the statistics under the area lock the slot
     * search holds anyway. A map that fails before its copy releases with {@link #releaseUncopied}.
     */
    public long mapBounce(long origAddr, long size, long minAlignMask, long segBoundaryMask, long physLimit,
            boolean mayGrow, java.util.function.LongUnaryOperator physToDma) {
        return mapSingle(origAddr, size, minAlignMask, 0, segBoundaryMask, physLimit, mayGrow, physToDma, size);
    }

    private long mapSingle(long origAddr, long size, long minAlignMask, long allocAlignMask, long segBoundaryMask,
            long physLimit, boolean mayGrow, java.util.function.LongUnaryOperator physToDma, long copyIn) {
        if (!isMaskOfLowBits(allocAlignMask) || !isMaskOfLowBits(segBoundaryMask)) {
            throw new IllegalArgumentException("failed to map " + size + " bytes through swiotlb: alloc_align_mask "
                    + Sizes.hex(allocAlignMask) + " and the segment boundary " + Sizes.hex(segBoundaryMask)
                    + " must each be 2^n - 1");
        }
        if (size <= 0 || closed || allocAlignMask >= SEGMENT_BYTES) {
            return NONE;
        }
        long offset = alignOffset(origAddr, minAlignMask, allocAlignMask);
        long allocSize = alignUp(size + offset, allocAlignMask + 1);
        if (allocSize > SEGMENT_BYTES) {
            return NONE;
        }
        return findSlots(origAddr, allocSize, minAlignMask, allocAlignMask, segBoundaryMask, (int) (offset >>> SLOT_SHIFT),
                offset & (SLOT_SIZE - 1), physLimit, mayGrow, physToDma, copyIn);
    }

    /**
     * {@code swiotlb_alloc()} for a restricted-dma-pool device: slots for {@code size} bytes aligned to the
     * power-of-two pages that hold them ({@code get_order(size)}), with no original to keep bits of and the size
     * not rounded. Freed by {@link #release}.
     *
     * @return a handle, or {@link #NONE}
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_alloc</a>
     */
    public long alloc(long size, long segBoundaryMask, boolean mayGrow) {
        return alloc(size, segBoundaryMask, mayGrow, null);
    }

    /**
     * As {@link #alloc(long, long, boolean)}, the alignment judged on the device's address
     * ({@code physToDma}: the restricted device's dma-ranges; null where DMA addresses equal physical ones).
     */
    public long alloc(long size, long segBoundaryMask, boolean mayGrow, java.util.function.LongUnaryOperator physToDma) {
        if (size <= 0 || size > SEGMENT_BYTES || closed) {
            return NONE;
        }
        long align = allocAlignMask(size);
        if (align >= SEGMENT_BYTES) {
            return NONE;
        }
        return findSlots(0, size, 0, align, segBoundaryMask, 0, 0, PageAllocator.NO_LIMIT, mayGrow, physToDma, 0);
    }

    /**
     * {@code swiotlb_alloc()}'s alignment, {@code (1 << (get_order(size) + PAGE_SHIFT)) - 1}: the smallest
     * power-of-two number of pages that holds {@code size}, less one.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_alloc</a>
     */
    public static long allocAlignMask(long size) {
        return Math.max(PAGE_SIZE, Long.highestOneBit(size - 1) << 1) - 1;
    }

    /**
     * {@code swiotlb_find_slots()}: the masks {@code swiotlb_search_pool_area()} derives, then each pool that lies
     * within the device's reach, then an extra pool.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_find_slots</a>
     */
    private long findSlots(long origAddr, long allocSize, long minAlignMask, long allocAlignMask, long segBoundaryMask,
            int padSlots, long offset, long physLimit, boolean mayGrow, java.util.function.LongUnaryOperator physToDma,
            long copyIn) {
        int n = (int) ((allocSize + SLOT_SIZE - 1) >>> SLOT_SHIFT);
        long alignMask = searchAlignMask(allocSize, minAlignMask, allocAlignMask);
        long keepMask = minAlignMask & ~alignMask;
        int hint = areaHint();
        for (SlotPool pool : pools) {
            if (Long.compareUnsigned(pool.lastPhys(), physLimit) > 0) {
                // Only pools wholly within the device's reach: slots beyond it would fail dma_capable.
                continue;
            }
            int slot = pool.findSlots(hint, origAddr, n, alignMask, keepMask, segBoundaryMask, padSlots, physToDma,
                    copyIn);
            if (slot >= 0) {
                return taken(pool, slot + padSlots, n, offset);
            }
        }
        return mayGrow && config.dynamicMaxBytes() > 0
                ? grow(hint, origAddr, n, alignMask, keepMask, segBoundaryMask, padSlots, offset, physLimit, physToDma,
                        copyIn)
                : NONE;
    }

    /**
     * The start alignment {@code swiotlb_search_pool_area()} searches with: a run of {@code PAGE_SIZE} or more
     * is page-aligned when the caller asked for no alignment and the device keeps no bits (6.9, "swiotlb:
     * Reinstate page-alignment for mappings >= PAGE_SIZE"), and every run is at least slot-aligned.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_search_pool_area</a>
     */
    static long searchAlignMask(long allocSize, long minAlignMask, long allocAlignMask) {
        long align = allocAlignMask;
        if (align == 0 && minAlignMask == 0 && allocSize >= PAGE_SIZE) {
            align = PAGE_SIZE - 1;
        }
        return align | (SLOT_SIZE - 1);
    }

    /**
     * {@code swiotlb_align_offset()}: how far into its run a mapping starts. The bits of the original under
     * {@code min_align_mask} that lie below a slot, or below {@code alloc_align_mask}; whole slots of it are
     * padding slots in front.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_align_offset</a>
     */
    static long alignOffset(long origAddr, long minAlignMask, long allocAlignMask) {
        return origAddr & minAlignMask & (allocAlignMask | (SLOT_SIZE - 1));
    }

    /** {@code swiotlb_dyn_alloc()}, done in the caller's thread: one more chunk below the device's limit. */
    private long grow(int hint, long origAddr, int n, long alignMask, long keepMask, long segBoundaryMask, int padSlots,
            long offset, long physLimit, java.util.function.LongUnaryOperator physToDma, long copyIn) {
        synchronized (growLock) {
            for (SlotPool pool : pools) {
                // Another thread may have grown the pool, or freed slots, while this one waited.
                if (pool.dynamic && Long.compareUnsigned(pool.lastPhys(), physLimit) <= 0) {
                    int slot = pool.findSlots(hint, origAddr, n, alignMask, keepMask, segBoundaryMask, padSlots,
                            physToDma, copyIn);
                    if (slot >= 0) {
                        return taken(pool, slot + padSlots, n, offset);
                    }
                }
            }
            if (closed || dynamicBytes + chunkBytes > config.dynamicMaxBytes() || pools.length >= 4095) {
                return NONE;
            }
            SlotPool pool = takePool(pools.length, pages, encryption, share, chunkBytes, chunkBytes, config.areas(),
                    physLimit, true, true, zoneFor(physLimit));
            if (pool == null && Long.compareUnsigned(physLimit, LOW_4G) <= 0) {
                // Low memory on demand, as for coherent memory: the kernel would take the pool from ZONE_DMA32.
                io.dmadirect.spi.LowMemoryAttempt attempt = pages.growBelow(physLimit, chunkBytes);
                LOG.log(System.Logger.Level.INFO, "swiotlb: an extra pool below " + Sizes.hex(physLimit)
                        + " needed low memory on demand: " + attempt.tried());
                if (!attempt.runs().isEmpty()) {
                    pool = takePool(pools.length, pages, encryption, share, chunkBytes, chunkBytes, config.areas(),
                            physLimit, true, true, zoneFor(physLimit));
                }
            }
            if (pool == null) {
                return NONE;
            }
            dynamicBytes += chunkBytes;
            SlotPool[] grown = java.util.Arrays.copyOf(pools, pools.length + 1);
            grown[pool.id] = pool;
            pools = grown;
            LOG.log(System.Logger.Level.INFO, "swiotlb: added pool " + pool.id + " of " + Sizes.format(chunkBytes) + " at "
                    + Sizes.hex(pool.firstPhys()) + " (" + Sizes.format(dynamicBytes) + " of "
                    + Sizes.format(config.dynamicMaxBytes()) + " extra)");
            int slot = pool.findSlots(hint, origAddr, n, alignMask, keepMask, segBoundaryMask, padSlots, physToDma,
                    copyIn);
            return slot < 0 ? NONE : taken(pool, slot + padSlots, n, offset);
        }
    }

    /** The handle of a run of {@code n} slots whose first mapped slot is {@code slot}. */
    private long taken(SlotPool pool, int slot, int n, long offset) {
        // The slots in use are the areas' own counts, kept under the locks already held; the high-water mark
        // reads them without locks (exact on one thread, close under concurrency), so no global counter is
        // written twice per bounce.
        long now = usedWithoutLocks();
        long high = highWater.get();
        while (now > high && !highWater.compareAndSet(high, now)) {
            high = highWater.get();
        }
        return ((long) (pool.id + 1) << 51) | ((long) slot << 19) | ((long) n << 11) | offset;
    }

    /**
     * {@code swiotlb_release_slots()}: the mapping's slots become free, the padding slots in front of it too.
     * The caller copies back first ({@code swiotlb_tbl_unmap_single}).
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_tbl_unmap_single</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_release_slots</a>
     */
    public void release(long handle) {
        pool(handle).release(firstSlot(handle), slots(handle), 0, 0, 0);
    }

    /**
     * {@link #release} after the unmap copied {@code copiedBack} bytes out with {@link #copyBackAtUnmap}, counted
     * under the area lock the release holds anyway.
     */
    public void releaseCopiedBack(long handle, long copiedBack) {
        pool(handle).release(firstSlot(handle), slots(handle), 0, 0, copiedBack);
    }

    /** {@link #release} of a {@link #mapBounce} that failed before its copy of {@code size} bytes: uncounted again. */
    public void releaseUncopied(long handle, long size) {
        pool(handle).release(firstSlot(handle), slots(handle), 0, -size, 0);
    }

    /**
     * {@link #claim} and {@link #release} in one hold of the area lock, for an unmap that copies nothing back:
     * false, and nothing released, when the mapping was not live (unmapped meanwhile, or by the device's close).
     */
    public boolean claimAndRelease(long handle) {
        return pool(handle).release(firstSlot(handle), slots(handle), handle, 0, 0);
    }

    private long usedWithoutLocks() {
        long sum = 0;
        for (SlotPool pool : pools) {
            sum += pool.usedWithoutLocks();
        }
        return sum;
    }

    /** The bounce buffer's physical address: its first slot plus the kept offset. */
    public long physAddress(long handle) {
        return physAddress(pool(handle), handle);
    }

    /** {@link #physAddress(long)} in a pool already looked up. */
    private static long physAddress(SlotPool pool, long handle) {
        return pool.slotPhys(firstSlot(handle)) + (handle & (SLOT_SIZE - 1));
    }

    /** The bounce buffer's CPU address, for copies. */
    public long cpuAddress(long handle) {
        return pool(handle).slotCpu(firstSlot(handle)) + (handle & (SLOT_SIZE - 1));
    }

    /** Bytes reserved for the handle from its address on: its slots less the padding and the kept offset. */
    public long capacity(long handle) {
        int mapped = slots(handle) - pool(handle).padSlots(firstSlot(handle));
        return ((long) mapped << SLOT_SHIFT) - (handle & (SLOT_SIZE - 1));
    }

    /** The padding slots in front of the handle's mapping ({@code pad_slots}). */
    public int padSlots(long handle) {
        return pool(handle).padSlots(firstSlot(handle));
    }

    /** The slots of the handle's whole run, padding slots included. */
    public static int runSlots(long handle) {
        return slots(handle);
    }

    /** A view of the first {@code length} bytes of a handle's memory. */
    public java.nio.ByteBuffer cpuView(long handle, int length) {
        SlotPool pool = pool(handle);
        int slot = firstSlot(handle);
        int chunk = pool.chunkOf(slot);
        long offset = pool.slotCpu(slot) - pool.chunkCpu[chunk] + (handle & (SLOT_SIZE - 1));
        java.nio.ByteBuffer whole = pages.cpuView(pool.chunkHandle[chunk], (int) pool.chunkBytes);
        return whole.slice(Math.toIntExact(offset), length);
    }

    /** Records what holds the handle's mapped slots (not its padding), found again by {@link #ownerAt}. */
    public void setOwner(long handle, Object owner) {
        SlotPool pool = pool(handle);
        int mapped = firstSlot(handle);
        pool.setOwner(mapped, slots(handle) - pool.padSlots(mapped), owner);
    }

    /**
     * Records a streaming mapping in its slots, as {@code swiotlb_tbl_map_single()} fills {@code io_tlb_slot}
     * ({@code orig_addr}, {@code alloc_size}), so that {@link #mappedAt} finds it again from the bounce address.
     * Storing references into the pool's arrays allocates nothing.
     *
     * @param owner what {@link #ownerAt} and {@link #forEachLive} report: the mapping object, or its mapper
     * @param keep  the memory the copies use: a {@code byte[]} (then {@code orig} is an offset into it), or
     *              anything that must stay reachable while the bounce lives (a direct buffer), or null
     * @param orig  the original's CPU address, or its offset in {@code keep}'s array
     * @param dir   the mapping's direction, as {@code DmaDirection.ordinal()}
     */
    public void record(long handle, Object owner, Object keep, long orig, long size, int dir) {
        SlotPool pool = pool(handle);
        int mapped = firstSlot(handle);
        pool.record(mapped, slots(handle) - pool.padSlots(mapped), handle, owner, keep, orig, size, (byte) dir);
    }

    /**
     * {@code swiotlb_find_pool()} and the slot index of {@code tlb_addr}: the handle of the live streaming
     * mapping whose bounce buffer holds {@code phys} (any byte of it), or {@link #NONE}.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/swiotlb.h">swiotlb_find_pool</a>
     */
    public long mappedAt(long phys) {
        long handle = mappedOrOutside(phys);
        return handle == OUTSIDE ? NONE : handle;
    }

    /**
     * dma-debug's {@code check_unmap()} of a live mapping in one look at its slot: true when {@code phys} is the
     * address the map returned, and the mapping was recorded by {@code owner}, in direction {@code dir} (as
     * {@code DmaDirection.ordinal()}), with at least {@code size} bytes. False says only that one of these failed;
     * the caller's own checks (the accessors below) say which, for its message.
     */
    public boolean isUnmapOf(long handle, long phys, Object owner, int dir, long size) {
        SlotPool pool = pool(handle);
        return physAddress(pool, handle) == phys && pool.recordedAs(firstSlot(handle), owner, (byte) dir, size);
    }

    /** Claims a live mapping for its unmap: true for exactly one caller, false when it was unmapped already. */
    public boolean claim(long handle) {
        return pool(handle).claim(firstSlot(handle), handle);
    }

    /** What the mapping's copies use ({@link #record}'s {@code keep}). */
    public Object keepOf(long handle) {
        return pool(handle).keepAt(firstSlot(handle));
    }

    /** The original's CPU address, or its offset in {@link #keepOf}'s array ({@code orig_addr}). */
    public long origOf(long handle) {
        return pool(handle).origAt(firstSlot(handle));
    }

    /** The mapping's size ({@code alloc_size} of its first slot). */
    public long mappedSize(long handle) {
        return pool(handle).mappedSizeAt(firstSlot(handle));
    }

    /** The mapping's direction as recorded. */
    public int directionOf(long handle) {
        return pool(handle).directionAt(firstSlot(handle));
    }

    /** What {@link #record} named as the mapping's owner. */
    public Object ownerOf(long handle) {
        return pool(handle).ownerAt(firstSlot(handle));
    }

    /** Each live streaming mapping recorded with {@code owner} (slow: for a device's close). */
    public void forEachLive(Object owner, java.util.function.LongConsumer action) {
        for (SlotPool pool : pools) {
            pool.forEachLive(owner, action);
        }
    }

    /** {@code is_swiotlb_buffer()} and {@code swiotlb_find_pool()}: what holds the slot at {@code phys}, or null. */
    public Object ownerAt(long phys) {
        for (SlotPool pool : pools) {
            int slot = pool.slotOf(phys);
            if (slot >= 0) {
                return pool.ownerAt(slot);
            }
        }
        return null;
    }

    /**
     * {@link #mappedAt} for an address known to lie in some pool, or {@code -1L} (never a handle) when no pool
     * holds it: one scan of the pools answers both questions on the unmap path.
     */
    public long mappedOrOutside(long phys) {
        for (SlotPool pool : pools) {
            int slot = pool.slotOf(phys);
            if (slot >= 0) {
                long start = pool.liveStartingAt(slot);
                if (start != NONE && firstSlot(start) == slot && physAddress(pool, start) == phys) {
                    // The address the map returned: the unmap's usual case, decided without the head look-up
                    // and the range check below.
                    return start;
                }
                long handle = pool.liveAt(slot);
                if (handle == NONE) {
                    return NONE;
                }
                // The handle is this pool's (its record lives here): no second look-up of the pool.
                int mapped = firstSlot(handle);
                long offset = phys - (pool.slotPhys(mapped) + (handle & (SLOT_SIZE - 1)));
                return offset >= 0 && offset < pool.mappedSizeAt(mapped) ? handle : NONE;
            }
        }
        return OUTSIDE;
    }

    /** What {@link #mappedOrOutside} returns for an address no pool holds. */
    public static final long OUTSIDE = -1L;

    /** {@code is_swiotlb_buffer()}: whether {@code phys} lies in any pool. */
    public boolean contains(long phys) {
        for (SlotPool pool : pools) {
            if (pool.slotOf(phys) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code phys} lies in a pool that was made shared (decrypted) with devices when it was taken. */
    public boolean isShared(long phys) {
        return share && contains(phys);
    }

    /** Calls {@code action} once for each owner of slots in use (slow: for close and dumps). */
    public void forEachOwner(Consumer<Object> action) {
        for (SlotPool pool : pools) {
            pool.forEachOwner(action);
        }
    }

    /** Whether some pool lies wholly at or below {@code physLimit}, or an extra one may be taken there. */
    public boolean reaches(long physLimit) {
        if (config.dynamicMaxBytes() > 0) {
            return true;
        }
        for (SlotPool pool : pools) {
            if (Long.compareUnsigned(pool.lastPhys(), physLimit) <= 0) {
                return true;
            }
        }
        return false;
    }

    /** Each pool's first and last physical address, as {@code {first, last}}, in the order they are searched. */
    public List<long[]> poolRanges() {
        List<long[]> ranges = new ArrayList<>();
        for (SlotPool pool : pools) {
            ranges.add(new long[] {pool.firstPhys(), pool.lastPhys()});
        }
        return ranges;
    }

    /** The lowest physical address of any pool. */
    public long firstPhysAddress() {
        long first = -1L;
        for (SlotPool pool : pools) {
            first = Long.compareUnsigned(pool.firstPhys(), first) < 0 ? pool.firstPhys() : first;
        }
        return first;
    }

    /** The highest physical address of any pool, for {@code dma_direct_supported()}. */
    public long lastPhysAddress() {
        long last = 0;
        for (SlotPool pool : pools) {
            long end = pool.lastPhys();
            last = Long.compareUnsigned(end, last) > 0 ? end : last;
        }
        return last;
    }

    /**
     * {@code swiotlb_bounce(..., DMA_TO_DEVICE)}: copies the original into the bounce buffer.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_bounce</a>
     */
    public void bounceToDevice(long origCpu, long tlbCpu, long size) {
        RawMemory.copy(origCpu, tlbCpu, size);
        bytesToDevice.add(size);
    }

    /** {@code swiotlb_bounce()} from a heap array. */
    public void bounceToDevice(byte[] array, int offset, long tlbCpu, int size) {
        RawMemory.copyFromArray(array, offset, tlbCpu, size);
        bytesToDevice.add(size);
    }

    /** {@code swiotlb_bounce(..., DMA_FROM_DEVICE)}: copies what the device wrote back to the original. */
    public void bounceFromDevice(long tlbCpu, long origCpu, long size) {
        RawMemory.copy(tlbCpu, origCpu, size);
        bytesFromDevice.add(size);
    }

    /** {@code swiotlb_bounce()} into a heap array. */
    public void bounceFromDevice(long tlbCpu, byte[] array, int offset, int size) {
        RawMemory.copyToArray(tlbCpu, array, offset, size);
        bytesFromDevice.add(size);
    }

    /** The map's {@code swiotlb_bounce()}: as {@link #bounceToDevice(long, long, long)}, counted by {@link #mapBounce}. */
    public void copyInAtMap(long origCpu, long tlbCpu, long size) {
        RawMemory.copy(origCpu, tlbCpu, size);
    }

    /** The map's {@code swiotlb_bounce()} from a heap array, counted by {@link #mapBounce}. */
    public void copyInAtMap(byte[] array, int offset, long tlbCpu, int size) {
        RawMemory.copyFromArray(array, offset, tlbCpu, size);
    }

    /** The unmap's {@code swiotlb_bounce()}: counted by the {@link #releaseCopiedBack} that follows it. */
    public void copyBackAtUnmap(long tlbCpu, long origCpu, long size) {
        RawMemory.copy(tlbCpu, origCpu, size);
    }

    /** The unmap's {@code swiotlb_bounce()} into a heap array, counted by the {@link #releaseCopiedBack} after it. */
    public void copyBackAtUnmap(long tlbCpu, byte[] array, int offset, int size) {
        RawMemory.copyToArray(tlbCpu, array, offset, size);
    }

    public SwiotlbStats stats() {
        SlotPool[] all = pools;
        long total = 0;
        long largest = 0;
        long bounces = 0;
        // The syncs' copies are counted here; the maps' and unmaps' under the area locks they take anyway.
        long toDevice = bytesToDevice.sum();
        long fromDevice = bytesFromDevice.sum();
        for (SlotPool pool : all) {
            total += pool.nslots;
            bounces += pool.taken();
            largest = Math.max(largest, pool.largestFreeRun());
            toDevice += pool.bytesToDevice();
            fromDevice += pool.bytesFromDevice();
        }
        return new SwiotlbStats(all.length, total, usedSlots(), highWater.get(), largest, bounces, toDevice, fromDevice);
    }

    /** Slots in use now: the areas' counts, each read under its lock. */
    public long usedSlots() {
        long used = 0;
        for (SlotPool pool : pools) {
            used += pool.used();
        }
        return used;
    }

    /** Areas of the first default pool (each part of it has as many). */
    public int areas() {
        return pools[0].areaCount();
    }

    /**
     * The message of a full pool: its size, the slots in use and the largest free run, so that a reader can
     * tell exhaustion from fragmentation.
     */
    public String describeFull(long size) {
        SwiotlbStats s = stats();
        return "the bounce pool (swiotlb) has no room for " + Sizes.format(size) + ": pool " + Sizes.format(s.totalSlots() * SLOT_SIZE)
                + " in " + s.pools() + " pool(s) of " + s.totalSlots() + " slots, " + s.usedSlots() + " slots in use, largest free run "
                + s.largestFreeRun() + " slots (" + Sizes.format(s.largestFreeRun() * SLOT_SIZE) + ")"
                + (config.dynamicMaxBytes() == 0 ? "" : ", extra pools " + Sizes.format(dynamicBytes()) + " of at most "
                        + Sizes.format(config.dynamicMaxBytes()))
                + ". Unmap mappings sooner, or give the pool more memory (SwiotlbConfig bytes or dynamicMaxBytes)";
    }

    private long dynamicBytes() {
        synchronized (growLock) {
            return dynamicBytes;
        }
    }

    /** Gives every pool's memory back, made private again first where it was shared. */
    @Override
    public void close() {
        synchronized (growLock) {
            if (closed) {
                return;
            }
            closed = true;
            for (SlotPool pool : pools) {
                for (int c = 0; c < pool.chunkHandle.length; c++) {
                    giveBack(pages, encryption, share, pool.chunkHandle[c], pool.chunkPhys[c], pool.chunkBytes);
                }
            }
        }
    }

    private SlotPool pool(long handle) {
        return pools[(int) (handle >>> 51) - 1];
    }

    private static int firstSlot(long handle) {
        return (int) ((handle >>> 19) & 0xffff_ffffL);
    }

    private static int slots(long handle) {
        return (int) ((handle >>> 11) & 0xff);
    }

    /**
     * {@code raw_smp_processor_id()} has no Java equivalent; a thread keeps to one area by its id, mixed
     * (Fibonacci hashing) so that consecutive ids spread over the areas. Not {@code identityHashCode}: that
     * was a measured few nanoseconds of every bounce, the id is a field read.
     */
    @SuppressWarnings("deprecation") // Thread.threadId() is Java 19; getId() is the same value
    private static int areaHint() {
        return (int) ((Thread.currentThread().getId() * 0x9E3779B97F4A7C15L) >>> 32);
    }

    /** Whether {@code mask} is {@code 2^n - 1} (0 and all ones included). */
    static boolean isMaskOfLowBits(long mask) {
        return (mask & (mask + 1)) == 0;
    }

    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
