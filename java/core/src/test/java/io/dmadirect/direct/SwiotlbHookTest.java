package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hook by which a restricted device allocates from the bounce pool ({@code dma_direct_alloc_swiotlb})
 * and frees back to it first ({@code __dma_direct_free_pages}). The pool itself is the streaming work;
 * here a one-region stand-in records the calls.
 */
class SwiotlbHookTest {

    /** A bounce pool of one 64 KiB region at a fixed physical address, handing out 4 KiB slots in order. */
    static final class RecordingPool implements SwiotlbAllocator {
        final ByteBuffer memory = ByteBuffer.allocateDirect(64 * 1024);
        final long phys;
        final List<Long> freed = new ArrayList<>();
        int next;

        RecordingPool(long phys) {
            this.phys = phys;
        }

        @Override
        public long alloc(long size) {
            if ((next + 1) * 4096L + size > memory.capacity()) {
                return NONE;
            }
            next++;
            return next;
        }

        @Override
        public boolean free(long handle) {
            freed.add(handle);
            return handle >= 1 && handle <= next;
        }

        @Override
        public long physAddress(long handle) {
            return phys + handle * 4096;
        }

        @Override
        public long cpuAddress(long handle) {
            return RawMemory.addressOf(memory) + handle * 4096;
        }

        @Override
        public ByteBuffer cpuView(long handle, int length) {
            return memory.slice((int) handle * 4096, length);
        }

        @Override
        public long lastPhysAddress() {
            return phys + memory.capacity() - 1;
        }
    }

    @Test
    void restrictedDeviceAllocatesFromTheBouncePoolAndFreesBackToIt() {
        RecordingPool pool = new RecordingPool(0x100_0000);
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).swiotlb(pool).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted").withRestrictedPool(true));
            DmaBuffer buffer = device.allocCoherent(100);
            assertEquals(AllocationPath.SWIOTLB, buffer.path());
            assertEquals(pool.physAddress(1), buffer.dmaAddress());
            assertEquals(0, buffer.cpuView().get(99), "zeroed like any coherent memory");
            buffer.close();
            assertEquals(List.of(1L), pool.freed, "freed through the pool, not the page allocator");
        }
    }

    @Test
    void restrictedDeviceWithoutAPoolGetsAClearError() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB)
                .bouncePool(io.dmadirect.spi.SwiotlbConfig.none()).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted").withRestrictedPool(true));
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096));
            assertTrue(e.getMessage().contains("restricted to a bounce pool"), e.getMessage());
        }
    }

    @Test
    void poolMemoryBeyondTheCoherentLimitIsGivenBack() {
        RecordingPool pool = new RecordingPool(0x1_0000_0000L);
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).swiotlb(pool).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted-32").withRestrictedPool(true));
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096));
            assertTrue(e.getMessage().contains("beyond the device's coherent limit"), e.getMessage());
            assertEquals(List.of(1L), pool.freed);
        }
    }

    /** swiotlb_alloc(): alloc_align_mask = (1 << (get_order(size) + PAGE_SHIFT)) - 1. */
    @Test
    void theAlignmentIsTheSizeRoundedUpToAPowerOfTwoNumberOfPages() {
        assertEquals(4095, Swiotlb.allocAlignMask(1));
        assertEquals(4095, Swiotlb.allocAlignMask(4096));
        assertEquals(8191, Swiotlb.allocAlignMask(4097));
        assertEquals(16383, Swiotlb.allocAlignMask(12 * 1024));
        assertEquals(64 * 1024 - 1, Swiotlb.allocAlignMask(64 * 1024));
    }

    /**
     * The real bounce pool as a restricted device's allocator: after a one-page buffer, 12 KiB starts on a
     * 16 KiB boundary and 64 KiB on a 64 KiB one, as the device addresses them (the kernel's fix for
     * {@code dma_alloc_coherent()} alignment in {@code swiotlb_alloc()}).
     */
    @Test
    void restrictedAllocationsAreAlignedToTheirOrder() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted").withRestrictedPool(true));
            try (DmaBuffer page = device.allocCoherent(4096);
                    DmaBuffer twelve = device.allocCoherent(12 * 1024);
                    DmaBuffer sixtyFour = device.allocCoherent(64 * 1024)) {
                assertEquals(AllocationPath.SWIOTLB, twelve.path());
                assertEquals(0, page.dmaAddress() & 4095);
                assertEquals(0, twelve.dmaAddress() & (16 * 1024 - 1), "12 KiB is order 2: " + twelve.report());
                assertEquals(0, sixtyFour.dmaAddress() & (64 * 1024 - 1), "64 KiB is order 4: " + sixtyFour.report());
            }
        }
    }

    /** dma_direct_alloc() cleans a non-coherent device's memory before use, restricted or not. */
    @Test
    void aNonCoherentRestrictedDeviceHasItsMemoryCleanedFromTheCaches() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted-arm64")
                    .withRestrictedPool(true).withCoherent(false));
            long callsBefore = platform.caches().cleanCalls();
            long bytesBefore = platform.caches().cleanedBytes();
            try (DmaBuffer buffer = device.allocCoherent(10_000)) {
                assertEquals(AllocationPath.SWIOTLB, buffer.path());
                assertEquals(callsBefore + 1, platform.caches().cleanCalls(), "arch_dma_prep_coherent once");
                assertEquals(bytesBefore + buffer.allocatedSize(), platform.caches().cleanedBytes());
            }
        }
    }

    /**
     * coherent_ok is asked about the address the device is given. On an SME host a device whose limit lies
     * above the C-bit is not forced unencrypted, but the bounce pool is shared memory, addressed without the
     * bit: a pool at 4 GiB is within a limit of 2^47 + 4 GiB - 1 as given, though not with the bit set.
     */
    @Test
    void coherentOkIsCheckedOnTheAddressTheDeviceIsGiven() {
        long cBit = 1L << 47;
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(4L << 30, 64 * MiB).encryptionMask(cBit)
                .atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted-sme").withRestrictedPool(true)
                    .withBusDmaLimit(cBit + 0xffff_ffffL));
            device.setMaskAndCoherent(io.dmadirect.DmaMask.BITS_64);
            assertTrue(!device.forcedUnencrypted());
            try (DmaBuffer buffer = device.allocCoherent(4096)) {
                assertEquals(AllocationPath.SWIOTLB, buffer.path());
                assertEquals(0, buffer.dmaAddress() & cBit, "shared memory: no encryption bit");
                assertTrue(Long.compareUnsigned(buffer.dmaAddress() + 4095, cBit + 0xffff_ffffL) <= 0);
                assertTrue(buffer.dmaAddress() >= (4L << 30), buffer.report().toString());
            }
        }
    }
}
