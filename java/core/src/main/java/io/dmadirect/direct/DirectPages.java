package io.dmadirect.direct;

import static io.dmadirect.Sizes.hex;

import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.spi.ZoneLayout;

/**
 * {@code __dma_direct_alloc_pages()}: the contiguous allocator (the CMA analogue) first, once, when the
 * caller may block and the size needs more than one frame; then pages of the optimal zone, where memory
 * that is not {@code dma_coherent_ok} is freed and the page allocation retried in ZONE_DMA32, then in
 * ZONE_DMA. Only the page allocation is retried down the zones, as in the kernel.
 *
 * <p>The page allocator's largest block is one frame (the kernel's {@code MAX_PAGE_ORDER}), so what needs
 * more than a frame comes from the contiguous allocator or not at all: an {@code ATOMIC} caller, which may
 * not use it, gets at most one frame.
 *
 * <p>One step is ours: before falling to a lower zone, and in the one contiguous try, the search is bounded
 * by the device's limit. The kernel does not need this, because it owns all of ZONE_DMA and ZONE_DMA32
 * and its CMA area is placed at boot; a process holds a sample of hugepages, and a 28-bit device would
 * otherwise give up on the DMA32 memory it can reach.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">__dma_direct_alloc_pages</a>
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/contiguous.c">dma_alloc_contiguous</a>
 */
final class DirectPages {

    private DirectPages() {
    }

    /**
     * The first, optimistic try of {@link #alloc}, without its notes: pages of the optimal zone (or, as the zonelist
     * allows, a lower one) that are coherent_ok, for a size of at most one frame. It never grows the memory and
     * writes no step, so the common allocation makes no object; when it returns {@link PageAllocator#NO_PAGES} the
     * caller runs {@link #alloc}, which repeats this try with its notes and goes on from there. Memory it took
     * beyond the limit is freed first, so the walk meets it again and says so.
     *
     * <p>A page from the calling thread's cache is checked here like any other: the cache is per zone, not per
     * device, and {@code dma_coherent_ok()} on the handle is what keeps a device's mask honoured.
     */
    static long firstTry(DevicePolicy policy, PageAllocator pages, long size) {
        if (size > pages.maxPagesBytes()) {
            return PageAllocator.NO_PAGES;
        }
        long handle = pages.allocPages(policy.zoneChoice.zone(), size, PageAllocator.NO_LIMIT, false);
        if (handle == PageAllocator.NO_PAGES || policy.coherentOk(pages.physAddress(handle), size)) {
            return handle;
        }
        pages.free(handle);
        return PageAllocator.NO_PAGES;
    }

    /**
     * @return a {@link PageAllocator} handle whose memory is coherent_ok for the device, or
     *         {@link PageAllocator#NO_PAGES}
     */
    static long alloc(DevicePolicy policy, PageAllocator pages, ZoneLayout zones, long size, boolean mayBlock,
            AllocationSteps steps) {
        long physLimit = policy.zoneChoice.physLimit();
        Zone zone = policy.zoneChoice.zone();
        long frame = pages.maxPagesBytes();
        if (useContiguous(size, frame, mayBlock)) {
            // dma_alloc_contiguous(), tried once; what it gives is kept only when coherent_ok.
            long handle = contiguous(pages, zone, size, physLimit);
            if (handle != PageAllocator.NO_PAGES) {
                if (policy.coherentOk(pages.physAddress(handle), size)) {
                    return handle;
                }
                steps.add("contiguous: got " + describe(pages, handle) + " beyond the device's limit "
                        + hex(policy.coherentLimit));
                pages.free(handle);
            } else {
                steps.add("contiguous: no run of " + Sizes.format(size) + " free in " + zone + " or a lower zone"
                        + (physLimit == PageAllocator.NO_LIMIT ? "" : " below " + hex(physLimit)));
            }
        } else if (size > frame) {
            steps.add("contiguous: not for a caller that cannot block (ATOMIC)");
        }
        if (size > frame) {
            // alloc_pages() of an order above MAX_PAGE_ORDER fails: one frame is the largest block.
            steps.add("pages: " + Sizes.format(size) + " is more than one frame (" + Sizes.format(frame)
                    + "), the largest block the page allocator serves");
            return PageAllocator.NO_PAGES;
        }
        while (true) {
            long handle = pages.allocPages(zone, size, PageAllocator.NO_LIMIT, mayBlock);
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
                handle = pages.allocPages(zone, size, physLimit, mayBlock);
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
     * The one contiguous try, below the device's limit. The kernel's CMA area is one region, not a zone, and
     * {@code cma_alloc()} is not held back by a lower zone's {@code lowmem_reserve}, which guards the page
     * allocator. Here the contiguous allocator's frames lie in zones: the optimal zone is asked with its
     * zonelist, and for a device whose limit lies within the low zones (at or below 4 GiB, whose memory
     * is the low zones' job) each lower zone is then asked as its own, so that a 28-bit device reaches
     * ZONE_DMA frames that ZONE_DMA32 requests may not take. A device reaching past 4 GiB leaves the low
     * zones their reserve. Only the first ask may grow the memory.
     */
    private static long contiguous(PageAllocator pages, Zone zone, long size, long physLimit) {
        long handle = pages.allocContiguous(zone, size, physLimit, true);
        if (handle != PageAllocator.NO_PAGES || !LowMemoryOnDemand.applies(physLimit)) {
            return handle;
        }
        for (Zone z = zone.lower(); z != null && handle == PageAllocator.NO_PAGES; z = z.lower()) {
            handle = pages.allocContiguous(z, size, physLimit, false);
        }
        return handle;
    }

    /**
     * Whether {@code dma_alloc_contiguous()} is asked at all: never for a caller that cannot block ("CMA can
     * be used only in the context which permits sleeping"), and not for what fits in one frame. The kernel
     * skips a single page for its global area because a page is always contiguous; here the unit that is
     * always contiguous is the frame, and the contiguous allocator hands out whole frames.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/contiguous.c">dma_alloc_contiguous</a>
     */
    static boolean useContiguous(long size, long frameBytes, boolean mayBlock) {
        return mayBlock && size > frameBytes;
    }

    /**
     * The retry order of the page allocation: ZONE_DMA32 unless already there or the device can reach
     * everything, then ZONE_DMA, then give up.
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

    private static String describe(PageAllocator pages, long handle) {
        long phys = pages.physAddress(handle);
        return "[" + hex(phys) + ", " + hex(phys + pages.byteSize(handle) - 1) + "]";
    }
}
