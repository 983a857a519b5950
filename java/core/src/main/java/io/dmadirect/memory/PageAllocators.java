package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import io.dmadirect.spi.PhysicalMemory;

/** The page allocators a platform can be built with. */
public final class PageAllocators {

    private PageAllocators() {
    }

    /** The buddy allocator with striped arenas and per-thread caches, as every platform uses by default. */
    public static PageAllocator standard(PhysicalMemory memory, ZoneLayout zones) {
        return new BuddyPageAllocator(memory, zones, AllocatorConfig.DEFAULT);
    }
}
