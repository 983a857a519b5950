package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import io.dmadirect.memory.ForwardingPageAllocator;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code __dma_direct_alloc_pages()}'s order, from the kernel's rules: {@code dma_alloc_contiguous()} is asked
 * once, and only by a caller that may block ({@code gfpflags_allow_blocking()}); only the page allocation
 * falls back down the zones; the page allocator serves at most its largest block (one frame here,
 * {@code MAX_PAGE_ORDER} in the kernel). The page allocator is wrapped to count the contiguous calls.
 */
class DirectPagesTest {
    private static final long FRAME = 2 * MiB;

    /** dma_alloc_contiguous(): "CMA can be used only in the context which permits sleeping". */
    @Test
    void theContiguousAllocatorIsAskedOnlyWhenTheCallerMayBlock() {
        assertTrue(DirectPages.useContiguous(FRAME + 4096, FRAME, true));
        assertFalse(DirectPages.useContiguous(FRAME + 4096, FRAME, false), "never for ATOMIC");
        assertFalse(DirectPages.useContiguous(FRAME, FRAME, true), "one frame is always contiguous");
        assertFalse(DirectPages.useContiguous(4096, FRAME, true));
    }

    @Test
    void anAtomicCallerNeverReachesTheContiguousAllocatorAndGetsAtMostOneFrame() {
        Counting counting = new Counting();
        try (SimulatedPlatform platform = platform(counting).region(0, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("atomic"));
            DmaAllocationException e = assertThrows(DmaAllocationException.class,
                    () -> device.allocCoherent(4 * MiB, DmaAttr.ATOMIC));
            assertEquals(0, counting.contiguous.get(), "the kernel never uses CMA for a caller that cannot block");
            assertTrue(e.getMessage().contains("cannot block"), e.getMessage());
            assertTrue(e.getMessage().contains("more than one frame"), e.getMessage());

            try (DmaBuffer frame = device.allocCoherent(FRAME, DmaAttr.ATOMIC)) {
                assertEquals(AllocationPath.PAGES, frame.path());
            }
            assertEquals(0, counting.contiguous.get());
        }
    }

    @Test
    void aBlockingCallerGetsTheContiguousAllocatorFirstForMoreThanAFrameAndPagesOtherwise() {
        Counting counting = new Counting();
        try (SimulatedPlatform platform = platform(counting).region(0, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("blocking"));
            try (DmaBuffer big = device.allocCoherent(4 * MiB)) {
                assertEquals(AllocationPath.CONTIGUOUS, big.path());
                assertEquals(1, counting.contiguous.get());
            }
            try (DmaBuffer small = device.allocCoherent(MiB)) {
                assertEquals(AllocationPath.PAGES, small.path());
                assertEquals(1, counting.contiguous.get(), "pages of the zone, without asking the contiguous allocator");
            }
        }
    }

    /**
     * A 32-bit device asks for 8 MiB where only 4 MiB lie below 4 GiB: the kernel asks CMA once and, when that
     * gives nothing, goes to {@code alloc_pages()}, which cannot serve more than its largest block. The zone
     * fallback ({@code GFP_DMA32}, then {@code GFP_DMA}) belongs to the page allocation only. (The one
     * contiguous search asks each zone within reach once, as the CMA area knows no zones.)
     */
    @Test
    void theContiguousAllocatorIsTriedOnceNotOncePerZone() {
        Counting counting = new Counting();
        try (SimulatedPlatform platform = platform(counting).region(0, 4 * MiB).region(4 * GiB, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dma32"));
            device.setMaskAndCoherent(DmaMask.bits(32));
            MemoryStats before = platform.memoryStats();
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(8 * MiB));
            assertEquals(List.of(Zone.DMA32, Zone.DMA), counting.zonesAsked,
                    "one search, each zone within reach once, never again in the fallback: " + e.getMessage());
            assertFalse(e.getMessage().contains("retry in"), "no zone retry without a page allocation: " + e.getMessage());
            platform.drainThreadCaches();
            assertEquals(before, platform.memoryStats(), "nothing kept");
        }
    }

    /** The page allocation alone falls back: NORMAL memory beyond a 32-bit limit is freed, then DMA32 serves. */
    @Test
    void pagesBeyondTheLimitAreFreedAndTheLowerZoneServes() {
        Counting counting = new Counting();
        try (SimulatedPlatform platform = platform(counting).region(16 * MiB, 16 * MiB).region(4 * GiB, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dma32"));
            device.setMaskAndCoherent(DmaMask.bits(32));
            try (DmaBuffer buffer = device.allocCoherent(64 * 1024)) {
                assertEquals(AllocationPath.PAGES, buffer.path());
                assertEquals(Zone.DMA32, buffer.zone());
            }
            assertEquals(0, counting.contiguous.get());
        }
    }

    private static SimulatedPlatform.Builder platform(Counting counting) {
        return SimulatedPlatform.builder().atomicPools(0, 0).bouncePool(SwiotlbConfig.none())
                .pageAllocator((memory, zones) -> counting.wrap(PageAllocators.standard(memory, zones)));
    }

    /** Counts {@code allocContiguous} calls and delegates everything. */
    static final class Counting {
        final AtomicInteger contiguous = new AtomicInteger();
        final List<Zone> zonesAsked = new java.util.concurrent.CopyOnWriteArrayList<>();

        PageAllocator wrap(PageAllocator d) {
            return new ForwardingPageAllocator(d) {
                @Override
                public long allocContiguous(Zone zone, long bytes, long physLimit, boolean mayGrow) {
                    contiguous.incrementAndGet();
                    zonesAsked.add(zone);
                    return delegate.allocContiguous(zone, bytes, physLimit, mayGrow);
                }
            };
        }
    }
}
