package io.dmadirect.swiotlb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code swiotlb_find_pool()} and the slot index of an address ({@link SlotPool#slotOf}): arithmetic for a pool whose
 * chunks follow each other in order, a walk of the chunks otherwise; both must give the slot
 * {@link SlotPool#slotPhys} places there, and -1 for any address outside the chunks.
 */
class SlotLookupTest {
    private static final long CHUNK = Swiotlb.SEGMENT_BYTES; // 256 KiB, 128 slots

    private static SlotPool pool(long... chunkPhys) {
        long[] handles = new long[chunkPhys.length];
        long[] cpu = new long[chunkPhys.length];
        for (int c = 0; c < chunkPhys.length; c++) {
            cpu[c] = 0x7000_0000_0000L + c * CHUNK * 2; // never dereferenced here
        }
        return new SlotPool(0, CHUNK, handles, chunkPhys, cpu, 1, false, false);
    }

    /** Chunk layouts: in order and adjacent (the arithmetic), out of order, with a hole, adjacent but reversed. */
    private static final long[][] LAYOUTS = {
        {0x100_0000L, 0x100_0000L + CHUNK, 0x100_0000L + 2 * CHUNK},
        {0x100_0000L + CHUNK, 0x100_0000L},
        {0x100_0000L, 0x100_0000L + 3 * CHUNK},
        {0x100_0000L + 2 * CHUNK, 0x100_0000L + CHUNK, 0x100_0000L},
    };

    @Test
    void everyByteOfEverySlotMapsBackToItsSlot() {
        for (long[] layout : LAYOUTS) {
            SlotPool pool = pool(layout);
            for (int slot = 0; slot < pool.nslots; slot++) {
                long phys = pool.slotPhys(slot);
                assertEquals(slot, pool.slotOf(phys), "first byte of slot " + slot);
                assertEquals(slot, pool.slotOf(phys + Swiotlb.SLOT_SIZE - 1), "last byte of slot " + slot);
            }
        }
    }

    /**
     * Slot addresses, which a contiguous pool computes by arithmetic: each must be its chunk's address plus the slot's
     * place in the chunk, from the chunk tables, for physical and CPU layouts in order, out of order and with holes.
     */
    @Test
    void slotAddressesAreTheirChunksAddressPlusTheirPlace() {
        long cpuBase = 0x7000_0000_0000L;
        long[][] cpuLayouts = {
            {cpuBase, cpuBase + CHUNK, cpuBase + 2 * CHUNK},
            {cpuBase + 2 * CHUNK, cpuBase, cpuBase + CHUNK},
            {cpuBase, cpuBase + 4 * CHUNK, cpuBase + 5 * CHUNK},
        };
        for (long[] layout : LAYOUTS) {
            for (long[] cpuLayout : cpuLayouts) {
                long[] cpu = java.util.Arrays.copyOf(cpuLayout, layout.length);
                SlotPool pool = new SlotPool(0, CHUNK, new long[layout.length], layout, cpu, 1, false, false);
                int perChunk = (int) (CHUNK / Swiotlb.SLOT_SIZE);
                for (int slot = 0; slot < pool.nslots; slot++) {
                    long place = (long) (slot % perChunk) * Swiotlb.SLOT_SIZE;
                    assertEquals(layout[slot / perChunk] + place, pool.slotPhys(slot), "phys of slot " + slot);
                    assertEquals(cpu[slot / perChunk] + place, pool.slotCpu(slot), "cpu of slot " + slot);
                }
            }
        }
    }

    @Test
    void addressesOutsideTheChunksAreNoSlot() {
        for (long[] layout : LAYOUTS) {
            SlotPool pool = pool(layout);
            assertEquals(-1, pool.slotOf(pool.firstPhys() - 1));
            assertEquals(-1, pool.slotOf(pool.lastPhys() + 1));
            assertEquals(-1, pool.slotOf(0));
            assertEquals(-1, pool.slotOf(-1L));
        }
        // The hole between two chunks is inside [firstPhys, lastPhys] but in no chunk.
        SlotPool holed = pool(LAYOUTS[2]);
        assertEquals(-1, holed.slotOf(0x100_0000L + CHUNK));
        assertEquals(-1, holed.slotOf(0x100_0000L + 3 * CHUNK - 1));
    }

    @Test
    void theUnmapsOneLookMatchesOnlyWhatWasRecorded() {
        SlotPool pool = pool(LAYOUTS[0]);
        Object owner = new Object();
        int mapped = 5;
        long handle = (1L << 51) | ((long) mapped << 19) | (1L << 11);
        pool.record(mapped, 1, handle, owner, null, 0x1234, 1000, (byte) 1);
        assertTrue(pool.recordedAs(mapped, owner, (byte) 1, 1000));
        assertTrue(pool.recordedAs(mapped, owner, (byte) 1, 999), "a smaller size passes, as it did before");
        assertFalse(pool.recordedAs(mapped, owner, (byte) 1, 1001), "larger than mapped");
        assertFalse(pool.recordedAs(mapped, owner, (byte) 2, 1000), "another direction");
        assertFalse(pool.recordedAs(mapped, new Object(), (byte) 1, 1000), "another owner");
    }
}
