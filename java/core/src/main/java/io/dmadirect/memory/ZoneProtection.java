package io.dmadirect.memory;

import io.dmadirect.Zone;

/**
 * How much of a lower zone is kept back from requests for a higher zone, so that devices which can only
 * reach the low zones (ZONE_DMA for a 24-bit ISA-style mask, ZONE_DMA32 for a 32-bit one) still find
 * memory after ordinary requests have filled the high zones. This is the kernel's {@code lowmem_reserve}
 * (the "protection" line of {@code /proc/zoneinfo}), inside our page allocator; it is not the low-memory
 * reserve that Linux hugepages take at open ({@code linux.hugepages.LowMemoryQuota}), which obtains low
 * memory from the kernel in the first place.
 *
 * <p>As in the kernel, the reserve of lower zone L against a request for zone Z is the managed memory of
 * the zones above L up to Z, divided by L's ratio; a ratio of 0 means no reserve. A lower zone serves the
 * request only while it keeps at least that much free after the allocation.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/page_alloc.c">setup_per_zone_lowmem_reserve(),
 *      __zone_watermark_ok()</a>
 * @see <a href="https://docs.kernel.org/admin-guide/sysctl/vm.html#lowmem-reserve-ratio">vm.lowmem_reserve_ratio</a>
 */
final class ZoneProtection {
    private static final int ZONES = Zone.values().length;
    /** [lower zone][request zone], in bytes; 0 where the request zone is not above the lower one. */
    private final long[][] reserve = new long[ZONES][ZONES];

    /**
     * @param managedBytes the memory of each zone, by {@link Zone#ordinal()}
     * @param ratios       the {@code lowmem_reserve_ratio} of each zone, by ordinal (the highest is unused)
     */
    ZoneProtection(long[] managedBytes, int[] ratios) {
        for (int lower = 0; lower < ZONES; lower++) {
            long above = 0;
            for (int request = lower + 1; request < ZONES; request++) {
                above += managedBytes[request];
                // As the kernel: no reserve when the ratio is 0 or there is nothing above to protect from.
                reserve[lower][request] = ratios[lower] == 0 ? 0 : above / ratios[lower];
            }
        }
    }

    static ZoneProtection of(long[] managedBytes, AllocatorConfig config) {
        return new ZoneProtection(managedBytes, new int[] {config.dmaReserveRatio(), config.dma32ReserveRatio(), 0});
    }

    /** The bytes {@code lower} keeps free against requests for {@code request}. */
    long reserve(Zone lower, Zone request) {
        return reserve[lower.ordinal()][request.ordinal()];
    }

    /**
     * Whether {@code lower}, with {@code freeBytes} free, may give {@code bytes} to a request for
     * {@code request}: the kernel's {@code free_pages - (1 << order) + 1 > min + lowmem_reserve[highest_zoneidx]}
     * with a min watermark of 0, that is: at least the reserve stays free after the allocation.
     */
    boolean allows(Zone lower, Zone request, long freeBytes, long bytes) {
        if (lower == request) {
            return true;
        }
        return freeBytes - bytes >= reserve[lower.ordinal()][request.ordinal()];
    }
}
