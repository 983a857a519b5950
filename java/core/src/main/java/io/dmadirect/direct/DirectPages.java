package io.dmadirect.direct;

import static io.dmadirect.Sizes.hex;

import io.dmadirect.Zone;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.spi.ZoneLayout;

/**
 * {@code __dma_direct_alloc_pages()}: the contiguous allocator first for what needs more than one frame,
 * then pages of the optimal zone; memory that is not {@code dma_coherent_ok} is freed and the
 * allocation retried in ZONE_DMA32, then in ZONE_DMA.
 *
 * <p>One step is ours: before falling to a lower zone, the zone is searched below the device's limit.
 * The kernel does not need this, because it owns all of ZONE_DMA and ZONE_DMA32; a process holds a
 * sample of hugepages, and a 28-bit device would otherwise give up on the DMA32 pages it can reach.
 */
final class DirectPages {

    private DirectPages() {
    }

    /**
     * @return a {@link PageAllocator} handle whose memory is coherent_ok for the device, or
     *         {@link PageAllocator#NO_PAGES}
     */
    static long alloc(DevicePolicy policy, PageAllocator pages, ZoneLayout zones, long size, boolean mayBlock,
            AllocationSteps steps) {
        long physLimit = policy.zoneChoice.physLimit();
        Zone zone = policy.zoneChoice.zone();
        while (true) {
            long handle = allocIn(pages, zone, size, PageAllocator.NO_LIMIT, mayBlock);
            if (handle == PageAllocator.NO_PAGES) {
                // The page allocator has already walked the lower zones (its zonelist): nothing is left.
                steps.add(zone + ": nothing free in this zone or the lower zones it may fall back to");
                return PageAllocator.NO_PAGES;
            }
            if (policy.coherentOk(pages.physAddress(handle), size)) {
                return handle;
            }
            steps.add(zone + ": got " + describe(pages, handle) + " beyond the device's limit " + hex(policy.coherentLimit));
            pages.free(handle);

            if (physLimit != PageAllocator.NO_LIMIT) {
                handle = allocIn(pages, zone, size, physLimit, mayBlock);
                if (handle != PageAllocator.NO_PAGES) {
                    if (policy.coherentOk(pages.physAddress(handle), size)) {
                        steps.add(zone + ": found memory below the limit " + hex(physLimit));
                        return handle;
                    }
                    pages.free(handle);
                }
                steps.add(zone + ": nothing free below " + hex(physLimit));
            }

            Zone next = nextZone(zone, physLimit);
            if (next == null) {
                return PageAllocator.NO_PAGES;
            }
            steps.add("retry in " + next);
            zone = next;
        }
    }

    /**
     * The retry order of the {@code again:} label: ZONE_DMA32 unless already there or the device can
     * reach everything, then ZONE_DMA, then give up.
     */
    static Zone nextZone(Zone tried, long physLimit) {
        if (tried == Zone.NORMAL && physLimit != -1L) {
            return Zone.DMA32;
        }
        if (tried != Zone.DMA) {
            return Zone.DMA;
        }
        return null;
    }

    private static long allocIn(PageAllocator pages, Zone zone, long size, long limit, boolean mayGrow) {
        if (size > pages.maxPagesBytes()) {
            return pages.allocContiguous(zone, size, limit, mayGrow);
        }
        return pages.allocPages(zone, size, limit, mayGrow);
    }

    private static String describe(PageAllocator pages, long handle) {
        long phys = pages.physAddress(handle);
        return "[" + hex(phys) + ", " + hex(phys + pages.byteSize(handle) - 1) + "]";
    }
}
