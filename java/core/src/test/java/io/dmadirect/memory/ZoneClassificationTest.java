package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs that straddle 16 MiB and 4 GiB are split there; each frame lands in the zone of its addresses. */
class ZoneClassificationTest {
    private static final long FRAME = 64 * KiB;
    private static final long LOW = 0x0;
    private static final long AT_16M = 0xF0_0000L;    // 1 MiB below and 1 MiB above 16 MiB
    private static final long AT_4G = 0xFFF0_0000L;   // 1 MiB below and 1 MiB above 4 GiB
    private static final long HIGH = 0x2_0000_0000L;

    private static BuddyPageAllocator allocator(AllocatorConfig config) {
        TestMemory memory = new TestMemory(FRAME).run(LOW, MiB).run(AT_16M, 2 * MiB).run(AT_4G, 2 * MiB)
                .run(HIGH, MiB);
        return new BuddyPageAllocator(memory, ZoneLayout.DEFAULT, config);
    }

    @Test
    void totalsPerZoneFollowTheBoundaries() {
        MemoryStats stats = allocator(AllocatorConfig.DEFAULT).stats();
        long dma = MiB + (0x100_0000L - AT_16M);
        long dma32 = (AT_16M + 2 * MiB - 0x100_0000L) + (0x1_0000_0000L - AT_4G);
        long normal = (AT_4G + 2 * MiB - 0x1_0000_0000L) + MiB;
        assertEquals(dma, stats.zone(Zone.DMA).total());
        assertEquals(dma32, stats.zone(Zone.DMA32).total());
        assertEquals(normal, stats.zone(Zone.NORMAL).total());
        for (Zone z : Zone.values()) {
            assertEquals(stats.zone(z).total(), stats.zone(z).free());
        }
    }

    @Test
    void everyAllocationLiesWhollyInItsZone() {
        // Reserves off, so each zone is drained through its own requests only.
        BuddyPageAllocator a = allocator(AllocatorConfig.DEFAULT.withReserveRatios(0, 0));
        for (Zone zone : Zone.values()) {
            List<Long> handles = new ArrayList<>();
            long h;
            while ((h = a.allocPages(zone, FRAME / 2, PageAllocator.NO_LIMIT, false)) != PageAllocator.NO_PAGES) {
                handles.add(h);
                long first = a.physAddress(h);
                long last = first + a.byteSize(h) - 1;
                assertEquals(a.zone(h), ZoneLayout.DEFAULT.zoneOf(first));
                assertEquals(a.zone(h), ZoneLayout.DEFAULT.zoneOf(last));
                assertEquals(zone.ordinal() >= a.zone(h).ordinal(), true, "never above the requested zone");
            }
            handles.forEach(a::free);
        }
    }

    @Test
    void contiguousRunsStopAtZoneBoundaries() {
        BuddyPageAllocator a = allocator(AllocatorConfig.DEFAULT.withReserveRatios(0, 0));
        // The 2 MiB run at 16 MiB is one MemoryRun, but its halves are in different zones.
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.DMA32, 2 * MiB, PageAllocator.NO_LIMIT, false));
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.NORMAL, 2 * MiB, PageAllocator.NO_LIMIT, false));
        long h = a.allocContiguous(Zone.DMA32, MiB, PageAllocator.NO_LIMIT, false);
        assertNotEquals(PageAllocator.NO_PAGES, h);
        assertEquals(Zone.DMA32, a.zone(h));
    }

    @Test
    void aFrameAcrossAZoneBoundaryBelongsToTheHigherZone() {
        // zone_dma_bits 20 puts the boundary at 1 MiB, inside the 2 MiB frame at 0.
        BuddyPageAllocator a = new BuddyPageAllocator(new TestMemory(2 * MiB).run(0, 2 * MiB),
                new ZoneLayout(20), AllocatorConfig.DEFAULT);
        assertEquals(0, a.stats().zone(Zone.DMA).total());
        assertEquals(2 * MiB, a.stats().zone(Zone.DMA32).total());
    }
}
