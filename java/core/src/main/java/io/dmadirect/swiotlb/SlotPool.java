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
 *       their {@code list} entries and the area's {@code index} and {@code used}. Areas hold whole
 *       segments, so no run crosses an area.</li>
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
    /** The mapping (or coherent buffer) that holds each slot, for the reverse lookup; written outside the lock. */
    private final Object[] owner;
    private final Area[] areas;
    private final int areaSlots;
    private final long firstPhys;
    private final long lastPhys;

    private static final class Area {
        int index;
        int used;
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
        this.owner = new Object[nslots];
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

    long slotPhys(int slot) {
        return chunkPhys[slot >>> chunkSlotShift] + ((long) (slot & chunkSlotMask) << SLOT_SHIFT);
    }

    int chunkOf(int slot) {
        return slot >>> chunkSlotShift;
    }

    long slotCpu(int slot) {
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
     * @param physToDma the device's {@code phys_to_dma_unencrypted()}, or null for DMA addresses equal to physical ones
     * @return the first slot of {@code n} free slots now taken, or -1
     */
    int findSlots(int areaHint, long origAddr, int n, long alignMask, java.util.function.LongUnaryOperator physToDma) {
        long[] chunkDmaOffset = alignMask == 0 || physToDma == null ? null : chunkDmaOffsets(physToDma);
        int start = areaHint & (areas.length - 1);
        int a = start;
        do {
            int index = areaFindSlots(a, origAddr, n, alignMask, chunkDmaOffset);
            if (index >= 0) {
                return index;
            }
            a = a + 1 == areas.length ? 0 : a + 1;
        } while (a != start);
        return -1;
    }

    /**
     * How far the device's dma-ranges move each chunk: the kernel's {@code tbl_dma_addr} per chunk, as a
     * distance from its physical address. A chunk no range covers keeps 0: its slots fail
     * {@code dma_capable()} later whatever their alignment.
     */
    private long[] chunkDmaOffsets(java.util.function.LongUnaryOperator physToDma) {
        long[] offsets = new long[chunkPhys.length];
        for (int c = 0; c < chunkPhys.length; c++) {
            long dma = physToDma.applyAsLong(chunkPhys[c]);
            offsets[c] = dma == -1L ? 0 : dma - chunkPhys[c];
        }
        return offsets;
    }

    /**
     * {@code swiotlb_area_find_slots()}: from where the area's last search ended, the first slot whose
     * DMA address agrees with {@code origAddr} on the bits of {@code alignMask} and that starts a free run of
     * {@code n}. Once aligned, the search steps by the alignment, as the kernel does.
     *
     * @param chunkDmaOffset each chunk's distance from physical to DMA address, or null when there is none
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_area_find_slots</a>
     */
    private int areaFindSlots(int a, long origAddr, int n, long alignMask, long[] chunkDmaOffset) {
        Area area = areas[a];
        int stride = (int) (alignMask >>> SLOT_SHIFT) + 1;
        int base = a * areaSlots;
        synchronized (area) {
            if (n > areaSlots - area.used) {
                return -1;
            }
            int index = area.index;
            for (int checked = 0; checked < areaSlots;) {
                int slot = base + index;
                long slotDma = chunkDmaOffset == null ? slotPhys(slot) : slotPhys(slot) + chunkDmaOffset[chunkOf(slot)];
                if (((slotDma ^ origAddr) & alignMask) != 0) {
                    index = wrap(index + 1);
                    checked++;
                    continue;
                }
                if (list[slot] >= n) {
                    take(slot, n);
                    area.index = wrap(index + n);
                    area.used += n;
                    return slot;
                }
                index = wrap(index + stride);
                checked += stride;
            }
            return -1;
        }
    }

    /** Marks {@code [slot, slot + n)} used and shortens the free counts of the run before it. Under the area lock. */
    private void take(int slot, int n) {
        for (int i = slot; i < slot + n; i++) {
            list[i] = 0;
        }
        int count = 0;
        for (int i = slot - 1; i >= 0 && i % SEGMENT_SLOTS != SEGMENT_SLOTS - 1 && list[i] != 0; i--) {
            list[i] = ++count;
        }
    }

    private int wrap(int index) {
        return index >= areaSlots ? index - areaSlots : index;
    }

    /**
     * {@code swiotlb_release_slots()}: returns the run to the free list, merged with the free slots after
     * it and before it inside the segment.
     *
     * @throws IllegalStateException when the run is not in use (a release of a release)
     */
    void release(int slot, int n) {
        Area area = areas[slot / areaSlots];
        synchronized (area) {
            if (list[slot] != 0) {
                throw new IllegalStateException("failed to release bounce slots " + slot + ".." + (slot + n - 1)
                        + " of pool " + id + ": they are already free");
            }
            int segmentEnd = (slot / SEGMENT_SLOTS + 1) * SEGMENT_SLOTS;
            int count = slot + n < segmentEnd ? list[slot + n] : 0;
            for (int i = slot + n - 1; i >= slot; i--) {
                list[i] = ++count;
                owner[i] = null;
            }
            for (int i = slot - 1; i >= 0 && i % SEGMENT_SLOTS != SEGMENT_SLOTS - 1 && list[i] != 0; i--) {
                list[i] = ++count;
            }
            area.used -= n;
            // Unlike the kernel's next-fit, the next search starts at the run just freed: its lines are
            // still in the CPU's cache, so a map/unmap loop copies into warm memory instead of walking the pool.
            area.index = slot - (slot / areaSlots) * areaSlots;
        }
    }

    void setOwner(int slot, int n, Object value) {
        for (int i = slot; i < slot + n; i++) {
            owner[i] = value;
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
        long used = 0;
        for (Area area : areas) {
            synchronized (area) {
                used += area.used;
            }
        }
        return used;
    }

    /** The longest free run any mapping could take now; for messages and statistics. */
    int largestFreeRun() {
        int largest = 0;
        for (int a = 0; a < areas.length; a++) {
            synchronized (areas[a]) {
                for (int i = a * areaSlots; i < (a + 1) * areaSlots; i++) {
                    largest = Math.max(largest, list[i]);
                }
            }
        }
        return largest;
    }
}
