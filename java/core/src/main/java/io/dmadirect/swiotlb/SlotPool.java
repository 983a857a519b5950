package io.dmadirect.swiotlb;

import static io.dmadirect.swiotlb.Swiotlb.SEGMENT_SLOTS;
import static io.dmadirect.swiotlb.Swiotlb.SLOT_SHIFT;

/**
 * One bounce pool ({@code struct io_tlb_pool}): slots of 2 KiB over chunks of pinned memory.
 *
 * <p>Notation and invariants, as in {@code kernel/dma/swiotlb.c}:
 * <ul>
 *   <li>Slot {@code i} lies at {@code chunkPhys[i >> chunkSlotShift] + (i & chunkSlotMask) * 2 KiB}. Each
 *       chunk is physically and virtually contiguous and holds whole 128-slot segments, so a run of slots
 *       inside one segment is contiguous memory.</li>
 *   <li>{@code list[i]} is 0 when slot {@code i} is in use, and otherwise the number of free slots from
 *       {@code i} to the end of its segment without a used one between. A run of {@code n} slots is free
 *       at {@code i} exactly when {@code list[i] >= n}. No run crosses a segment.</li>
 *   <li>Slots {@code [a * areaSlots, (a + 1) * areaSlots)} belong to area {@code a}, whose lock guards
 *       their {@code list} entries, the {@code live} claim of the mappings that start there, and the area's
 *       {@code index}, {@code used} and byte counts. Areas hold whole segments, so no run crosses an area.</li>
 *   <li>{@code pad[i]} is the number of padding slots ({@code pad_slots}) taken in front of a mapping whose
 *       first mapped slot is {@code i}, written when the run is taken and cleared when it is released,
 *       under the area lock. A mapping's run is {@code [i - pad[i], i - pad[i] + n)}.</li>
 *   <li>A run never spans a multiple of the device's segment boundary ({@code dma_get_seg_boundary()}) in
 *       DMA addresses, and its first slot's DMA address has zero bits under {@code alloc_align_mask}.</li>
 * </ul>
 */
final class SlotPool {
    final int id;
    final int nslots;
    final long chunkBytes;
    final long[] chunkHandle;
    final long[] chunkPhys;
    final long[] chunkCpu;
    final boolean shared;
    final boolean dynamic;
    private final int chunkSlotShift;
    private final int chunkSlotMask;
    private final int[] list;
    /** {@code io_tlb_slot.pad_slots}: padding slots in front of the mapping whose first mapped slot this is. */
    private final short[] pad;
    /** The mapping (or coherent buffer) that holds each slot, for the reverse lookup; written outside the lock. */
    private final Object[] owner;
    /**
     * The kernel's per-slot {@code io_tlb_slot} of a streaming mapping, found from the bounce address alone as
     * {@code swiotlb_find_pool()} and its index do: {@link #head} per mapped slot (its mapping's first mapped
     * slot), and per first mapped slot {@link #live} (the handle, 0 once unmapped, claimed once by
     * compare-and-set), {@link #orig} ({@code orig_addr}: a CPU address, or an offset into {@link #keep}'s
     * array), {@link #mappedSize} ({@code alloc_size}), {@link #direction} and {@link #keep} (what the copies
     * read and write: holding it here keeps a direct buffer from being freed while a bounce copies into it).
     */
    private final int[] head;
    private final long[] live;
    private final long[] orig;
    private final long[] mappedSize;
    private final byte[] direction;
    private final Object[] keep;
    private static final java.lang.invoke.VarHandle LIVE = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);
    private final Area[] areas;
    private final int areaSlots;
    private final long firstPhys;
    private final long lastPhys;
    /**
     * Whether chunk {@code c} lies at {@code firstPhys + c * chunkBytes} for every {@code c} (one physically
     * contiguous pool, as the default pool usually is): then {@link #slotOf} is arithmetic, not a walk of the chunks.
     */
    private final boolean contiguous;
    /** {@link #contiguous} in CPU addresses: chunk {@code c} at {@code firstCpu + c * chunkBytes}. */
    private final boolean cpuContiguous;
    private final long firstCpu;

    /**
     * One area ({@code struct io_tlb_area}) and its lock ({@code area->lock}, a spinlock in the kernel too). Not a
     * Java monitor: a monitor costs a compare-and-set to enter and another to exit, this lock one to take it and a
     * plain release store to drop it, and a bounce takes an area's lock twice (slot search, release). A holder
     * keeps it for one slot search or release; a waiter spins briefly, then yields, then parks, so a holder
     * descheduled on a loaded machine is not starved by spinners.
     */
    private static final class Area {
        @SuppressWarnings("unused") // accessed through AREA_LOCK
        private volatile int lock;
        int index;
        int used;
        /** Runs taken in this area since the pool was made: the statistics' bounce count, kept under the lock already held. */
        long taken;
        /**
         * Bytes the streaming maps copied into this area's slots and the unmaps copied out of them, counted under
         * the lock the map and the release take anyway (the syncs' copies are counted by the pool, see
         * {@link Swiotlb#stats}): no shared counter is written per bounce.
         */
        long bytesToDevice;
        long bytesFromDevice;

        void lock() {
            if (!AREA_LOCK.compareAndSet(this, 0, 1)) {
                lockContended();
            }
        }

        private void lockContended() {
            for (int round = 0; ; round++) {
                if ((int) AREA_LOCK.getOpaque(this) == 0 && AREA_LOCK.compareAndSet(this, 0, 1)) {
                    return;
                }
                if (round < 64) {
                    Thread.onSpinWait();
                } else if (round < 128) {
                    Thread.yield();
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000);
                }
            }
        }

        /** A release store: everything written under the lock happens-before the next holder's acquiring CAS. */
        void unlock() {
            AREA_LOCK.setRelease(this, 0);
        }
    }

    private static final java.lang.invoke.VarHandle AREA_LOCK;

    static {
        try {
            AREA_LOCK = java.lang.invoke.MethodHandles.lookup().findVarHandle(Area.class, "lock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    SlotPool(int id, long chunkBytes, long[] chunkHandle, long[] chunkPhys, long[] chunkCpu, int requestedAreas,
            boolean shared, boolean dynamic) {
        this.id = id;
        this.chunkBytes = chunkBytes;
        this.chunkHandle = chunkHandle;
        this.chunkPhys = chunkPhys;
        this.chunkCpu = chunkCpu;
        this.shared = shared;
        this.dynamic = dynamic;
        this.chunkSlotShift = Long.numberOfTrailingZeros(chunkBytes) - SLOT_SHIFT;
        this.chunkSlotMask = (1 << chunkSlotShift) - 1;
        this.nslots = chunkPhys.length << chunkSlotShift;
        this.list = new int[nslots];
        this.pad = new short[nslots];
        this.owner = new Object[nslots];
        this.head = new int[nslots];
        this.live = new long[nslots];
        this.orig = new long[nslots];
        this.mappedSize = new long[nslots];
        this.direction = new byte[nslots];
        this.keep = new Object[nslots];
        for (int i = 0; i < nslots; i++) {
            list[i] = SEGMENT_SLOTS - (i % SEGMENT_SLOTS);
        }
        int nareas = areasFor(requestedAreas, nslots / SEGMENT_SLOTS);
        this.areaSlots = nslots / nareas;
        this.areas = new Area[nareas];
        for (int a = 0; a < nareas; a++) {
            areas[a] = new Area();
        }
        long first = -1L;
        long last = 0;
        for (long phys : chunkPhys) {
            first = Long.compareUnsigned(phys, first) < 0 ? phys : first;
            long end = phys + chunkBytes - 1;
            last = Long.compareUnsigned(end, last) > 0 ? end : last;
        }
        this.firstPhys = first;
        this.lastPhys = last;
        boolean inOrder = true;
        for (int c = 0; c < chunkPhys.length; c++) {
            inOrder &= chunkPhys[c] == first + c * chunkBytes;
        }
        this.contiguous = inOrder;
        boolean cpuInOrder = true;
        for (int c = 0; c < chunkCpu.length; c++) {
            cpuInOrder &= chunkCpu[c] == chunkCpu[0] + c * chunkBytes;
        }
        this.cpuContiguous = cpuInOrder;
        this.firstCpu = chunkCpu.length == 0 ? 0 : chunkCpu[0];
    }

    /**
     * {@code swiotlb_adjust_nareas()} and {@code limit_nareas()}: a power of two, and no more than whole
     * segments allow, so every area holds a whole number of them.
     */
    static int areasFor(int requested, int segments) {
        int n = requested <= 0 ? Runtime.getRuntime().availableProcessors() : requested;
        n = Integer.highestOneBit(Math.max(1, n));
        while (n > 1 && segments % n != 0) {
            n >>= 1;
        }
        return n;
    }

    int areaCount() {
        return areas.length;
    }

    /** Slot {@code slot}'s physical address: arithmetic in a {@link #contiguous} pool, else through its chunk. */
    long slotPhys(int slot) {
        if (contiguous) {
            return firstPhys + ((long) slot << SLOT_SHIFT);
        }
        return chunkPhys[slot >>> chunkSlotShift] + ((long) (slot & chunkSlotMask) << SLOT_SHIFT);
    }

    int chunkOf(int slot) {
        return slot >>> chunkSlotShift;
    }

    /** Slot {@code slot}'s CPU address, for copies: arithmetic when the chunks lie in order, as {@link #slotPhys}. */
    long slotCpu(int slot) {
        if (cpuContiguous) {
            return firstCpu + ((long) slot << SLOT_SHIFT);
        }
        return chunkCpu[slot >>> chunkSlotShift] + ((long) (slot & chunkSlotMask) << SLOT_SHIFT);
    }

    /** The lowest physical address of the pool. */
    long firstPhys() {
        return firstPhys;
    }

    /** The highest physical address of the pool. */
    long lastPhys() {
        return lastPhys;
    }

    /** The slot holding {@code phys}, or -1 when the pool does not. */
    int slotOf(long phys) {
        if (Long.compareUnsigned(phys, firstPhys) < 0 || Long.compareUnsigned(phys, lastPhys) > 0) {
            return -1; // most addresses a device is given are not bounce buffers: one comparison decides it
        }
        if (contiguous) {
            return (int) ((phys - firstPhys) >>> SLOT_SHIFT);
        }
        for (int c = 0; c < chunkPhys.length; c++) {
            long offset = phys - chunkPhys[c];
            if (Long.compareUnsigned(phys, chunkPhys[c]) >= 0 && Long.compareUnsigned(offset, chunkBytes) < 0) {
                return (c << chunkSlotShift) | (int) (offset >>> SLOT_SHIFT);
            }
        }
        return -1;
    }

    /**
     * {@code swiotlb_pool_find_slots()}: the areas in turn, starting from the caller's.
     *
     * @param alignMask   the start's alignment: {@code alloc_align_mask} as {@code swiotlb_search_pool_area()}
     *                    widens it (at least {@code IO_TLB_SIZE - 1}); the first slot's DMA address has zero bits under it
     * @param keepMask    {@code min_align_mask} less {@code alignMask}: bits the first slot's DMA address shares
     *                    with {@code origAddr}; 0 for an allocation, which has no original
     * @param boundary    the device's segment boundary mask ({@code 2^k - 1}); no run spans a multiple of it + 1
     * @param padSlots    slots in front of the mapping ({@code pad_slots}), recorded at the first mapped slot
     * @param physToDma   the device's {@code phys_to_dma_unencrypted()}, or null for DMA addresses equal to physical ones
     * @param copyIn      bytes the caller will copy into the run (a streaming map's copy), counted with the take
     * @return the first slot of {@code n} free slots now taken (the padding included), or -1
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_find_slots</a>
     */
    int findSlots(int areaHint, long origAddr, int n, long alignMask, long keepMask, long boundary, int padSlots,
            java.util.function.LongUnaryOperator physToDma, long copyIn) {
        int start = areaHint & (areas.length - 1);
        int a = start;
        do {
            int index = searchArea(a, origAddr, n, alignMask, keepMask, boundary, padSlots, physToDma, copyIn);
            if (index >= 0) {
                return index;
            }
            a = a + 1 == areas.length ? 0 : a + 1;
        } while (a != start);
        return -1;
    }

    /**
     * How far the device's dma-ranges move chunk {@code c}: the kernel's {@code tbl_dma_addr} per chunk, as a
     * distance from its physical address. A chunk no range covers keeps 0: its slots fail
     * {@code dma_capable()} later whatever their alignment.
     */
    private long chunkDmaOffset(java.util.function.LongUnaryOperator physToDma, int c) {
        long dma = physToDma.applyAsLong(chunkPhys[c]);
        return dma == -1L ? 0 : dma - chunkPhys[c];
    }

    /**
     * {@code swiotlb_search_pool_area()}: from where the area's last search ended, the first slot whose DMA
     * address has zero bits under {@code alignMask}, agrees with {@code origAddr} under {@code keepMask}, starts
     * a run of {@code n} that spans no segment boundary ({@code iommu_is_span_boundary()}), and starts a free
     * run of {@code n}. Once aligned, the search steps by the larger alignment, as the kernel does.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_search_pool_area</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/iommu-helper.h">iommu_is_span_boundary</a>
     */
    private int searchArea(int a, long origAddr, int n, long alignMask, long keepMask, long boundary, int padSlots,
            java.util.function.LongUnaryOperator physToDma, long copyIn) {
        Area area = areas[a];
        // get_max_slots(): the boundary in slots; (~0 >>> 11) + 1 does not overflow a long.
        long boundarySlotMask = boundary >>> SLOT_SHIFT;
        int stride = (int) Math.min(Integer.MAX_VALUE, (Math.max(alignMask, keepMask) >>> SLOT_SHIFT) + 1);
        area.lock();
        try {
            return n > areaSlots - area.used ? -1
                    : scanArea(area, a * areaSlots, origAddr, n, alignMask, keepMask, boundarySlotMask, stride, padSlots,
                            physToDma, copyIn);
        } finally {
            area.unlock();
        }
    }

    /**
     * {@link #searchArea}'s walk, under the area's lock: the first fitting run taken, or -1. A method of its own so
     * that each half stays small enough for the JIT to inline into the map.
     */
    private int scanArea(Area area, int base, long origAddr, int n, long alignMask, long keepMask, long boundarySlotMask,
            int stride, int padSlots, java.util.function.LongUnaryOperator physToDma, long copyIn) {
        int index = area.index;
        int offsetChunk = -1;
        long dmaOffset = 0;
        for (int checked = 0; checked < areaSlots;) {
            int slot = base + index;
            long slotDma = slotPhys(slot);
            if (physToDma != null) {
                int c = slot >>> chunkSlotShift;
                if (c != offsetChunk) {
                    offsetChunk = c;
                    dmaOffset = chunkDmaOffset(physToDma, c);
                }
                slotDma += dmaOffset;
            }
            if ((slotDma & alignMask) != 0 || ((slotDma ^ origAddr) & keepMask) != 0) {
                index = wrap(index + 1);
                checked++;
                continue;
            }
            if (list[slot] >= n && !spansBoundary(slotDma, n, boundarySlotMask)) {
                take(slot, n, padSlots);
                area.index = wrap(index + n);
                area.used += n;
                area.taken++;
                area.bytesToDevice += copyIn;
                return slot;
            }
            index = wrap(index + stride);
            checked += stride;
        }
        return -1;
    }

    /**
     * {@code iommu_is_span_boundary()} in slots: whether {@code n} slots from {@code slotDma} cross a multiple of
     * the boundary. {@code boundarySlotMask} is {@code get_max_slots(boundary) - 1}.
     */
    static boolean spansBoundary(long slotDma, int n, long boundarySlotMask) {
        return ((slotDma >>> SLOT_SHIFT) & boundarySlotMask) + n > boundarySlotMask + 1;
    }

    /**
     * Marks {@code [slot, slot + n)} used, records the padding at the first mapped slot, and shortens the free
     * counts of the run before it. Under the area lock.
     */
    private void take(int slot, int n, int padSlots) {
        for (int i = slot; i < slot + n; i++) {
            list[i] = 0;
        }
        pad[slot + padSlots] = (short) padSlots;
        int count = 0;
        for (int i = slot - 1; i >= 0 && i % SEGMENT_SLOTS != SEGMENT_SLOTS - 1 && list[i] != 0; i--) {
            list[i] = ++count;
        }
    }

    /** The padding slots in front of the mapping whose first mapped slot is {@code mapped}. */
    int padSlots(int mapped) {
        return pad[mapped];
    }

    /** {@code wrap_area_index()}: past the area's end the search goes on from its start. */
    private int wrap(int index) {
        return index >= areaSlots ? 0 : index;
    }

    /**
     * {@code swiotlb_release_slots()}: returns the mapping's run, its padding slots in front included, to the free
     * list, merged with the free slots after it and before it inside the segment.
     *
     * @param mapped   the mapping's first mapped slot (after its padding)
     * @param n        the slots of the whole run, padding included
     * @param claim    the handle a primitive unmap claims in the same hold of the lock ({@link #claim}), or 0 when
     *                 the caller's own state made this the one release (an object mapping, a claimed mapping)
     * @param toDevice added to the bytes copied in: minus the map's count when the map failed before its copy
     * @param fromDevice bytes the caller copied back out of the run before releasing it
     * @return false when {@code claim} was given and the mapping was not live under it (unmapped meanwhile)
     * @throws IllegalStateException when the run is not in use (a release of a release)
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_release_slots</a>
     */
    boolean release(int mapped, int n, long claim, long toDevice, long fromDevice) {
        Area area = areas[mapped / areaSlots];
        area.lock();
        try {
            if (claim != 0 && (long) LIVE.getAcquire(live, mapped) != claim) {
                return false;
            }
            int slot = mapped - pad[mapped];
            if (list[slot] != 0 || list[mapped] != 0) {
                throw alreadyFree(slot, n);
            }
            pad[mapped] = 0;
            keep[mapped] = null;
            // A primitive unmap claimed it already (live is 0) or claims it here; an object mapping's own state
            // made its release the only one. Either way the store is under the lock every claim takes.
            LIVE.setRelease(live, mapped, 0L);
            free(slot, n);
            area.used -= n;
            area.bytesToDevice += toDevice;
            area.bytesFromDevice += fromDevice;
            // Unlike the kernel's next-fit, the next search starts at the run just freed: its lines are
            // still in the CPU's cache, so a map/unmap loop copies into warm memory instead of walking the pool.
            area.index = slot - (slot / areaSlots) * areaSlots;
            return true;
        } finally {
            area.unlock();
        }
    }

    /** The free-list update of a release, under the area lock: the run merged with the free slots around it. */
    private void free(int slot, int n) {
        int segmentEnd = (slot / SEGMENT_SLOTS + 1) * SEGMENT_SLOTS;
        int count = slot + n < segmentEnd ? list[slot + n] : 0;
        for (int i = slot + n - 1; i >= slot; i--) {
            list[i] = ++count;
            owner[i] = null;
        }
        for (int i = slot - 1; i >= 0 && i % SEGMENT_SLOTS != SEGMENT_SLOTS - 1 && list[i] != 0; i--) {
            list[i] = ++count;
        }
    }

    private IllegalStateException alreadyFree(int slot, int n) {
        return new IllegalStateException("failed to release bounce slots " + slot + ".." + (slot + n - 1)
                + " of pool " + id + ": they are already free");
    }

    void setOwner(int slot, int n, Object value) {
        for (int i = slot; i < slot + n; i++) {
            owner[i] = value;
        }
    }

    /**
     * Records a streaming mapping's {@code io_tlb_slot} fields, then publishes its handle: a reader that sees the
     * handle (a volatile read) sees the fields. Called by the mapping thread before the handle is handed out.
     */
    void record(int mapped, int mappedSlots, long handle, Object owner, Object keep, long orig, long size, byte dir) {
        for (int i = mapped; i < mapped + mappedSlots; i++) {
            head[i] = mapped;
            this.owner[i] = owner;
        }
        this.keep[mapped] = keep;
        this.orig[mapped] = orig;
        this.mappedSize[mapped] = size;
        this.direction[mapped] = dir;
        LIVE.setRelease(live, mapped, handle); // publishes the fields above to liveAt's acquiring read
    }

    /**
     * The handle of the live streaming mapping whose run holds {@code slot}, or 0. The head of a free slot may be
     * stale; the caller checks the address against the handle's range.
     */
    long liveAt(int slot) {
        return (long) LIVE.getAcquire(live, head[slot]);
    }

    /**
     * The handle of the live streaming mapping whose first mapped slot is {@code slot}, or 0: the unmap's usual
     * case (the address the map returned), read without going through {@link #head}.
     */
    long liveStartingAt(int slot) {
        return (long) LIVE.getAcquire(live, slot);
    }

    /**
     * Claims the mapping at {@code mapped} for its unmap: true for exactly one caller while it is live. Under the
     * area's lock, as {@link #release}'s claim is, so that a claim and a release that claims never both win.
     */
    boolean claim(int mapped, long handle) {
        Area area = areas[mapped / areaSlots];
        area.lock();
        try {
            if ((long) LIVE.getAcquire(live, mapped) != handle) {
                return false;
            }
            LIVE.setRelease(live, mapped, 0L);
            return true;
        } finally {
            area.unlock();
        }
    }

    /**
     * Whether the live mapping {@code handle}, whose first mapped slot is {@code mapped}, was recorded by
     * {@code owner} in direction {@code dir} with at least {@code size} bytes: the usual unmap's checks in one
     * look at the slot. A false answer is not an error by itself; the caller's own checks say what is wrong.
     */
    boolean recordedAs(int mapped, Object owner, byte dir, long size) {
        return this.owner[mapped] == owner && direction[mapped] == dir && size <= mappedSize[mapped];
    }

    Object keepAt(int mapped) {
        return keep[mapped];
    }

    long origAt(int mapped) {
        return orig[mapped];
    }

    long mappedSizeAt(int mapped) {
        return mappedSize[mapped];
    }

    byte directionAt(int mapped) {
        return direction[mapped];
    }

    /** Calls {@code action} with each live streaming mapping's handle whose owner is {@code owner} (slow: for close). */
    void forEachLive(Object owner, java.util.function.LongConsumer action) {
        for (int i = 0; i < nslots; i++) {
            long h = (long) LIVE.getVolatile(live, i);
            if (h != 0 && this.owner[i] == owner) {
                action.accept(h);
            }
        }
    }

    Object ownerAt(int slot) {
        return owner[slot];
    }

    void forEachOwner(java.util.function.Consumer<Object> action) {
        Object previous = null;
        for (Object o : owner) {
            if (o != null && o != previous) {
                action.accept(o);
            }
            previous = o;
        }
    }

    /** Slots in use, summed over the areas (each read under its lock). */
    long used() {
        return sumOverAreas(area -> area.used);
    }

    /** Slots in use, read without the locks: for the high-water mark, which must not add a lock to a bounce. */
    long usedWithoutLocks() {
        long used = 0;
        for (Area area : areas) {
            used += area.used;
        }
        return used;
    }

    /** Runs taken since the pool was made, summed over the areas. */
    long taken() {
        return sumOverAreas(area -> area.taken);
    }

    /** Bytes the streaming maps copied in, summed over the areas. */
    long bytesToDevice() {
        return sumOverAreas(area -> area.bytesToDevice);
    }

    /** Bytes the unmaps copied out, summed over the areas. */
    long bytesFromDevice() {
        return sumOverAreas(area -> area.bytesFromDevice);
    }

    private long sumOverAreas(java.util.function.ToLongFunction<Area> field) {
        long sum = 0;
        for (Area area : areas) {
            area.lock();
            try {
                sum += field.applyAsLong(area);
            } finally {
                area.unlock();
            }
        }
        return sum;
    }

    /** The longest free run any mapping could take now; for messages and statistics. */
    int largestFreeRun() {
        int largest = 0;
        for (int a = 0; a < areas.length; a++) {
            areas[a].lock();
            try {
                for (int i = a * areaSlots; i < (a + 1) * areaSlots; i++) {
                    largest = Math.max(largest, list[i]);
                }
            } finally {
                areas[a].unlock();
            }
        }
        return largest;
    }
}
