package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Zone;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ZoneProtectionTest {

    /** managed: DMA 16 MiB, DMA32 4 GiB - 16 MiB, NORMAL 60 GiB (a typical 64 GiB x86 machine). */
    @ParameterizedTest(name = "ratios {0}/{1}: reserve of {2} against {3}")
    @CsvSource({
            "256, 256, DMA, DMA, 0",
            "256, 256, DMA, DMA32, 16711680",           // (4 GiB - 16 MiB) / 256
            "256, 256, DMA, NORMAL, 268369920",         // (4 GiB - 16 MiB + 60 GiB) / 256
            "256, 256, DMA32, NORMAL, 251658240",       // 60 GiB / 256
            "256, 256, DMA32, DMA, 0",                  // a higher zone never protects against a lower request
            "256, 256, NORMAL, NORMAL, 0",
            "0, 256, DMA, NORMAL, 0",                   // ratio 0: no protection
            "256, 0, DMA32, NORMAL, 0",
            "32, 1, DMA32, NORMAL, 64424509440",        // ratio 1 keeps everything back
    })
    void reserveTable(int dmaRatio, int dma32Ratio, Zone lower, Zone request, long expected) {
        long[] managed = {16 * MiB, 4 * GiB - 16 * MiB, 60 * GiB};
        ZoneProtection reserve = new ZoneProtection(managed, new int[] {dmaRatio, dma32Ratio, 0});
        assertEquals(expected, reserve.reserve(lower, request));
        // The formula, independently of the literal above.
        long formula = lower.ordinal() >= request.ordinal() ? 0 : sumAbove(managed, lower, request)
                / Math.max(1, lower == Zone.DMA ? dmaRatio : dma32Ratio);
        if ((lower == Zone.DMA ? dmaRatio : dma32Ratio) == 0) {
            formula = 0;
        }
        assertEquals(formula, reserve.reserve(lower, request));
    }

    private static long sumAbove(long[] managed, Zone lower, Zone request) {
        long sum = 0;
        for (int z = lower.ordinal() + 1; z <= request.ordinal(); z++) {
            sum += managed[z];
        }
        return sum;
    }

    @Test
    void allowsOnlyWhileTheReserveStaysFree() {
        ZoneProtection reserve = new ZoneProtection(new long[] {MiB, 256 * MiB, GiB}, new int[] {256, 256, 0});
        long r = reserve.reserve(Zone.DMA32, Zone.NORMAL);
        assertTrue(reserve.allows(Zone.DMA32, Zone.NORMAL, r + 4 * KiB, 4 * KiB));
        assertFalse(reserve.allows(Zone.DMA32, Zone.NORMAL, r + 4 * KiB - 1, 4 * KiB));
        assertTrue(reserve.allows(Zone.DMA32, Zone.DMA32, 0, 4 * KiB), "a zone's own requests see no reserve");
    }

    @Test
    void zonelistFallsBackToLowerZonesDownToTheirReserve() {
        long frame = 64 * KiB;
        long dmaBytes = MiB;
        long dma32Bytes = 512 * KiB;
        long normalBytes = MiB;
        int dma32Ratio = 4;
        TestMemory memory = new TestMemory(frame).run(0, dmaBytes).run(0x1000_0000L, dma32Bytes)
                .run(0x1_0000_0000L, normalBytes);
        AllocatorConfig config = AllocatorConfig.DEFAULT.withReserveRatios(0, dma32Ratio);
        BuddyPageAllocator a = new BuddyPageAllocator(memory, ZoneLayout.DEFAULT, config);

        int[] servedFrom = new int[Zone.values().length];
        long h;
        while ((h = a.allocPages(Zone.NORMAL, frame, PageAllocator.NO_LIMIT, false)) != PageAllocator.NO_PAGES) {
            servedFrom[a.zone(h).ordinal()]++;
        }
        long dma32Reserve = normalBytes / dma32Ratio;
        assertEquals(normalBytes / frame, servedFrom[Zone.NORMAL.ordinal()], "NORMAL first, all of it");
        assertEquals((dma32Bytes - dma32Reserve) / frame, servedFrom[Zone.DMA32.ordinal()],
                "DMA32 only down to its reserve");
        assertEquals(dmaBytes / frame, servedFrom[Zone.DMA.ordinal()], "ratio 0: DMA unprotected");
        assertEquals(dma32Reserve, a.stats().zone(Zone.DMA32).free());
        // The reserve is there for DMA32's own requests.
        assertNotEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.DMA32, frame, PageAllocator.NO_LIMIT, false));
    }

    @Test
    void aLowerZoneNeverServesItsOwnRequestsFromAHigherZone() {
        TestMemory memory = new TestMemory(64 * KiB).run(0x1_0000_0000L, MiB);
        BuddyPageAllocator a = new BuddyPageAllocator(memory, ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);
        assertEquals(PageAllocator.NO_PAGES, a.allocPages(Zone.DMA32, 4 * KiB, PageAllocator.NO_LIMIT, false));
        assertEquals(PageAllocator.NO_PAGES, a.allocContiguous(Zone.DMA, MiB, PageAllocator.NO_LIMIT, false));
    }
}
