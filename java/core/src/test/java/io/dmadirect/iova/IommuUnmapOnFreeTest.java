package io.dmadirect.iova;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaUsageException;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.host.PciPlatforms;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Issue 19, {@code iommuUnmapOnFree} on the simulated IOMMU: IOVA-mode memory mapped allocation by allocation,
 * unmapped at free and mapped again when handed out again, so a device that writes to freed memory faults; without
 * the option the same write lands. The simulated IOMMU refuses partial unmaps and overlapping maps as VFIO type1
 * does, so any bookkeeping slip fails loudly here.
 */
class IommuUnmapOnFreeTest {
    private static final long MiB = 1L << 20;
    private static final byte[] LATE = filled(64, (byte) 0x5a);

    private SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();

    private DmaPlatform platform(boolean unmapOnFree) {
        return platform(unmapOnFree, PciPlatforms.defaults());
    }

    private DmaPlatform platform(boolean unmapOnFree, LinuxPlatformOptions options) {
        // Physical addresses far above any mask: IOVA mode never uses them.
        SimulatedMemory memory = new SimulatedMemory(2 * MiB, List.of(new long[] {64L << 30, 64 * MiB}), 65L << 30);
        return PciPlatforms.iova("iova-free-sim", memory, iommu, null, options
                .withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER).withIommuUnmapOnFree(unmapOnFree));
    }

    /** Device-to-memory DMA through the simulated IOMMU, as a bus master does; false when it faulted. */
    private boolean deviceWrite(long iova, byte[] data) {
        long cpu = iommu.translate(iova, data.length);
        if (cpu == 0) {
            return false;
        }
        io.dmadirect.memory.RawMemory.copyFromArray(data, 0, cpu, data.length);
        return true;
    }

    /** Sizes of each path: one page, a power-of-two run of pages, a whole 2 MiB frame, contiguous frames. */
    @ParameterizedTest
    @ValueSource(longs = {1, 4096, 12 * 1024, 64 * 1024, 2 * 1024 * 1024, 6 * 1024 * 1024})
    void aFreedCoherentBufferFaultsAndAFreshOneIsMappedAgain(long size) {
        try (DmaPlatform platform = platform(true)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("late-writer"));
            int before = iommu.mappingCount();
            DmaBuffer buffer = device.allocCoherent(size);
            long dma = buffer.dmaAddress();
            long last = dma + buffer.allocatedSize() - LATE.length;
            assertEquals(before + 1, iommu.mappingCount(), "one mapping for the allocation");
            assertTrue(deviceWrite(dma, LATE) && deviceWrite(last, LATE), "a live buffer is reachable end to end");
            buffer.close();
            assertEquals(before, iommu.mappingCount(), "its mapping went with the free");
            long faults = iommu.faults();
            assertFalse(deviceWrite(dma, LATE), "a write to the freed buffer's first page must fault");
            assertFalse(deviceWrite(last, LATE), "and to its last page");
            assertEquals(faults + 2, iommu.faults());
            DmaBuffer again = device.allocCoherent(size);
            assertTrue(deviceWrite(again.dmaAddress(), LATE), "memory handed out again is mapped before it is returned");
            byte[] seen = new byte[(int) Math.min(size, LATE.length)];
            again.cpuView().get(0, seen);
            assertArrayEquals(Arrays.copyOf(LATE, seen.length), seen, "the device and the CPU see the same bytes");
            again.close();
        }
        assertEquals(0, iommu.mappingCount(), "close unmaps everything");
    }

    @Test
    void withoutTheOptionTheLateWriteLands() {
        try (DmaPlatform platform = platform(false)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("late-writer"));
            int chunks = iommu.mappingCount();
            DmaBuffer buffer = device.allocCoherent(4096);
            assertEquals(chunks, iommu.mappingCount(), "memory is mapped in chunks up front");
            long dma = buffer.dmaAddress();
            buffer.close();
            assertTrue(deviceWrite(dma, LATE), "without the option freed memory stays reachable");
            DmaBuffer again = device.allocCoherent(4096, DmaAttr.SKIP_ZEROING);
            assertEquals(dma, again.dmaAddress(), "the test relies on the freed page being handed out again");
            byte[] seen = new byte[LATE.length];
            again.cpuView().get(0, seen);
            assertArrayEquals(LATE, seen, "the late write corrupted the next owner: what the option exists to catch");
            again.close();
        }
    }

    @Test
    void allocPagesBuffersAreUnmappedAtFreeToo() {
        try (DmaPlatform platform = platform(true)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("pages"));
            NoncoherentBuffer buffer = device.allocPages(8192, DmaDirection.FROM_DEVICE);
            long dma = buffer.dmaAddress();
            assertTrue(deviceWrite(dma + 4096, LATE));
            device.freeNoncoherent(buffer);
            assertFalse(deviceWrite(dma + 4096, LATE));
        }
    }

    /** Not covered, by design: a pool buffer shares its chunk's pages with other live pool buffers. */
    @Test
    void aFreedAtomicPoolBufferStaysMappedWithItsChunk() {
        try (DmaPlatform platform = platform(true)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("atomic").withCoherent(false));
            DmaBuffer buffer = device.allocCoherent(4096, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, buffer.path());
            long dma = buffer.dmaAddress();
            buffer.close();
            assertTrue(deviceWrite(dma, LATE), "the pool's chunk is live, so its pages stay mapped");
        }
    }

    @Test
    void theMappingLimitIsAClearErrorAndLeavesNothingBehind() {
        // The limit leaves room for what the platform maps when it opens (pool chunks, the bounce pool) plus 3.
        int opening;
        try (DmaPlatform probe = platform(true)) {
            opening = iommu.mappingCount();
        }
        iommu = new SimulatedIommu(SimulatedIommu.likeIntelIommu().validRanges(), opening + 3);
        try (DmaPlatform platform = platform(true)) {
            DmaDevice device = platform.attach(DeviceProperties.simple("many"));
            List<DmaBuffer> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(device.allocCoherent(4096));
            }
            long available = platform.memoryStats().available();
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096));
            assertTrue(e.getMessage().contains("iommuUnmapOnFree") && e.getMessage().contains("dma_entry_limit")
                    && e.getMessage().contains("live now"), e.getMessage());
            assertEquals(opening + 3, iommu.mappingCount(), "nothing stays mapped for the failed allocation");
            assertEquals(available, platform.memoryStats().available(), "its pages went back");
            held.remove(0).close();
            held.add(device.allocCoherent(4096)); // the freed mapping's slot is usable again
            held.forEach(DmaBuffer::close);
        }
    }

    @Test
    void freesRacingCloseNeitherThrowNorLeaveMappings() throws Exception {
        DmaPlatform platform = platform(true, PciPlatforms.defaults().withBouncePool(SwiotlbConfig.none()));
        DmaDevice device = platform.attach(DeviceProperties.simple("racer"));
        int threads = 4;
        CountDownLatch started = new CountDownLatch(threads);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                started.countDown();
                try {
                    for (int i = 0; i < 100_000; i++) {
                        DmaBuffer b = device.allocCoherent(4096 << (i % 3));
                        b.close();
                    }
                } catch (DmaUsageException closed) {
                    // the platform closed under us: the contract's answer
                } catch (Throwable e) {
                    unexpected.compareAndSet(null, e);
                }
            });
            w.start();
            workers.add(w);
        }
        started.await();
        Thread.sleep(20);
        platform.close();
        for (Thread w : workers) {
            w.join(10_000);
            assertFalse(w.isAlive(), "a worker hung after close");
        }
        if (unexpected.get() != null) {
            throw new AssertionError("a free racing close failed otherwise than with DmaUsageException", unexpected.get());
        }
        assertEquals(0, iommu.mappingCount(), "close unmapped everything, and no late free mapped or unmapped anything");
    }

    /**
     * The system property (what the agent's {@code iommuFree=true} sets) reaches options made before it was set,
     * {@code DEFAULTS} included, when the platform is built; cleared, it no longer does.
     */
    @Test
    void theSystemPropertyTurnsItOnForPlatformsBuiltWhileItIsSet() {
        LinuxPlatformOptions madeBefore = PciPlatforms.defaults();
        assertFalse(madeBefore.iommuUnmapOnFree());
        System.setProperty(LinuxPlatformOptions.IOMMU_UNMAP_ON_FREE_PROPERTY, "true");
        try {
            assertTrue(madeBefore.iommuUnmapOnFreeInEffect());
            try (DmaPlatform platform = platform(false, madeBefore)) {
                DmaBuffer buffer = platform.attach(DeviceProperties.simple("agent-on")).allocCoherent(4096);
                long dma = buffer.dmaAddress();
                buffer.close();
                assertFalse(deviceWrite(dma, LATE), "unmapped at free because of the property");
            }
        } finally {
            System.clearProperty(LinuxPlatformOptions.IOMMU_UNMAP_ON_FREE_PROPERTY);
        }
        assertFalse(madeBefore.iommuUnmapOnFreeInEffect());
    }

    /** Without the option the page allocator is not wrapped: nothing on the allocation or free path changes. */
    @Test
    void withoutTheOptionThePageAllocatorIsTheSameObject() {
        SimulatedMemory source = new SimulatedMemory(2 * MiB, List.of(new long[] {0, 16 * MiB}), 16 * MiB);
        try (IovaMemory plain = IovaMemory.map(source, iommu, io.dmadirect.spi.ZoneLayout.DEFAULT, null)) {
            var pages = io.dmadirect.memory.PageAllocators.standard(plain, io.dmadirect.spi.ZoneLayout.DEFAULT);
            assertSame(pages, plain.pagesOver(pages));
            assertFalse(plain.unmapsOnFree());
            pages.close();
        }
    }

    /** The simulated platform's builder takes the option too, and its bus masters see the fault. */
    @Test
    void aSimulatedBusMasterFaultsOnFreedMemory() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).iommu(iommu)
                .iommuUnmapOnFree(true).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("edu-like"));
            SimulatedBusMaster edu = platform.busMaster(device, 28);
            DmaBuffer buffer = device.allocCoherent(4096);
            long dma = buffer.dmaAddress();
            assertTrue(edu.write(dma, LATE));
            buffer.close();
            assertFalse(edu.write(dma, LATE), "the late write faults");
            assertEquals(1, edu.faults().size(), edu.faults().toString());
        }
    }

    private static byte[] filled(int n, byte value) {
        byte[] b = new byte[n];
        Arrays.fill(b, value);
        return b;
    }
}
