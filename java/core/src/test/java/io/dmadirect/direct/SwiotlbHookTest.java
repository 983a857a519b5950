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
}
