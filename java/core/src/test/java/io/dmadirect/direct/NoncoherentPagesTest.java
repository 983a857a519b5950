package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaSegment;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.NoncoherentBuffer;
import io.dmadirect.NoncontiguousBuffer;
import io.dmadirect.sim.RecordingCaches;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code dma_alloc_pages()}, {@code dma_alloc_noncoherent()} and {@code dma_alloc_noncontiguous()} against the
 * kernel's rules: {@code dma_direct_alloc_pages()} (the pool only for memory that must be decrypted, the bounce
 * pool of a restricted device, otherwise {@code __dma_direct_alloc_pages()}; decrypted, zeroed over the
 * page-aligned size, no cache work), the syncs of {@code dma_direct_sync_single_for_device/cpu()} (cache
 * maintenance by direction for a device that does not snoop caches, none for one that does), and the free rules.
 */
class NoncoherentPagesTest {
    private static final long C_BIT = 1L << 47;

    private static SimulatedPlatform platform() {
        return SimulatedPlatform.builder().region(0, 64 * MiB).atomicPools(0, 0).build();
    }

    /**
     * What {@code arch_sync_dma_for_device()} and {@code arch_sync_dma_for_cpu()} do per direction (the generic
     * scheme dmadirect follows for streaming mappings too): for the device, clean what it reads and invalidate
     * what it overwrites; for the CPU, invalidate unless the device only read.
     */
    private enum SyncRule {
        TO_DEVICE(DmaDirection.TO_DEVICE, true, false, false),
        FROM_DEVICE(DmaDirection.FROM_DEVICE, false, true, true),
        BIDIRECTIONAL(DmaDirection.BIDIRECTIONAL, true, true, true);

        final DmaDirection dir;
        final boolean forDeviceCleans;
        final boolean forDeviceInvalidates;
        final boolean forCpuInvalidates;

        SyncRule(DmaDirection dir, boolean forDeviceCleans, boolean forDeviceInvalidates, boolean forCpuInvalidates) {
            this.dir = dir;
            this.forDeviceCleans = forDeviceCleans;
            this.forDeviceInvalidates = forDeviceInvalidates;
            this.forCpuInvalidates = forCpuInvalidates;
        }
    }

    @Test
    void syncsOfANonCoherentDeviceDoTheCacheMaintenanceOfTheirDirection() {
        for (SyncRule rule : SyncRule.values()) {
            for (boolean noncontiguous : new boolean[] {false, true}) {
                try (SimulatedPlatform platform = platform()) {
                    DmaDevice device = platform.attach(DeviceProperties.simple("arm64").withCoherent(false));
                    RecordingCaches caches = platform.caches();
                    NoncoherentBuffer buffer = noncontiguous ? device.allocNoncontiguous(10_000, rule.dir)
                            : device.allocPages(10_000, rule.dir);
                    String what = rule + (noncontiguous ? " noncontiguous" : " pages");
                    assertEquals(0, caches.cleanCalls() + caches.invalidateCalls(),
                            "dma_direct_alloc_pages() does no cache work (no arch_dma_prep_coherent): " + what);
                    buffer.syncForDevice(100, 200);
                    assertEquals(rule.forDeviceCleans ? 200 : 0, caches.cleanedBytes(), what);
                    assertEquals(rule.forDeviceInvalidates ? 200 : 0, caches.invalidatedBytes(), what);
                    long invalidatedBefore = caches.invalidatedBytes();
                    long cleanedBefore = caches.cleanedBytes();
                    buffer.syncForCpu();
                    assertEquals(cleanedBefore, caches.cleanedBytes(), "a sync for the CPU never cleans: " + what);
                    assertEquals(invalidatedBefore + (rule.forCpuInvalidates ? 10_000 : 0), caches.invalidatedBytes(), what);
                    buffer.close();
                }
            }
        }
    }

    @Test
    void syncsOfACoherentDeviceDoNoCacheWorkButAreStillChecked() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("x86"));
            NoncoherentBuffer buffer = device.allocNoncoherent(8192, DmaDirection.BIDIRECTIONAL);
            buffer.syncForDevice();
            buffer.syncForCpu(0, 8192);
            assertEquals(0, platform.caches().cleanCalls() + platform.caches().invalidateCalls());
            assertThrows(DmaUsageException.class, () -> buffer.syncForDevice(8000, 193), "past the end");
            assertThrows(DmaUsageException.class, () -> buffer.syncForCpu(-1, 10), "negative offset");
            assertThrows(DmaUsageException.class, () -> buffer.syncForCpu(0, 0), "empty range");
            assertThrows(DmaUsageException.class, () -> buffer.syncForCpu(Long.MAX_VALUE, 2), "overflowing range");
            device.freeNoncoherent(buffer);
            assertTrue(buffer.isFreed());
            DmaUsageException e = assertThrows(DmaUsageException.class, buffer::syncForDevice);
            assertTrue(e.getMessage().contains("freed"), e.getMessage());
            assertThrows(DmaUsageException.class, buffer::cpuView);
        }
    }

    @Test
    void whatTheDeviceWritesTheCpuReadsAfterSyncAndTheReverse() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("engine").withCoherent(false));
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            NoncoherentBuffer buffer = device.allocPages(4096, DmaDirection.BIDIRECTIONAL);
            byte[] fromDevice = "written by the device".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            assertTrue(engine.write(buffer.dmaAddress() + 64, fromDevice));
            buffer.syncForCpu(64, fromDevice.length);
            byte[] seen = new byte[fromDevice.length];
            buffer.cpuView().get(64, seen);
            assertArrayEquals(fromDevice, seen);
            ByteBuffer view = buffer.cpuView();
            view.put(1000, (byte) 0x5a);
            buffer.syncForDevice(1000, 1);
            assertEquals(0x5a, engine.read(buffer.dmaAddress() + 1000, 1)[0]);
            buffer.close();
        }
    }

    @Test
    void theWholePageAlignedSizeIsZeroedUnlessSkipZeroing() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("zero"));
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            NoncoherentBuffer dirty = device.allocPages(4096, DmaDirection.FROM_DEVICE);
            long dma = dirty.dmaAddress();
            byte[] ones = new byte[4096];
            Arrays.fill(ones, (byte) -1);
            assertTrue(engine.write(dma, ones));
            dirty.close();
            NoncoherentBuffer again = device.allocPages(100, DmaDirection.FROM_DEVICE);
            assertEquals(dma, again.dmaAddress(), "the test relies on the freed page being handed out again");
            assertEquals(4096, again.allocatedSize());
            assertArrayEquals(new byte[4096], engine.read(dma, 4096),
                    "memset(ret, 0, size) with size already PAGE_ALIGNed by __dma_alloc_pages()");
            again.close();
            assertTrue(engine.write(dma, ones));
            NoncoherentBuffer skipped = device.allocPages(100, DmaDirection.FROM_DEVICE, DmaAttr.SKIP_ZEROING);
            assertEquals(dma, skipped.dmaAddress());
            assertEquals(-1, skipped.cpuView().get(0), "SKIP_ZEROING leaves what was there");
            skipped.close();
        }
    }

    @Test
    void placementFollowsTheCoherentMaskAsACoherentAllocationDoes() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).region(4 * GiB, 64 * MiB)
                .atomicPools(0, 0).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("masks"));
            for (int bits : new int[] {26, 32, 64}) {
                device.setMaskAndCoherent(DmaMask.bits(bits));
                for (long size : new long[] {100, 3 * MiB}) {
                    DmaBuffer coherent = device.allocCoherent(size);
                    NoncoherentBuffer pages = device.allocPages(size, DmaDirection.TO_DEVICE);
                    assertTrue(Long.compareUnsigned(pages.dmaAddress() + size - 1, DmaMask.bits(bits).value()) <= 0);
                    assertEquals(coherent.zone(), pages.zone(), bits + "-bit, " + size + " bytes");
                    assertEquals(coherent.path(), pages.path(), bits + "-bit, " + size + " bytes");
                    assertEquals(coherent.report().optimalZone(), pages.report().optimalZone());
                    coherent.close();
                    pages.close();
                }
            }
        }
    }

    @Test
    void anAtomicCallerGetsPagesNotThePoolUnlessTheMemoryMustBeShared() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("arm64-atomic").withCoherent(false));
            DmaBuffer coherent = device.allocCoherent(4096, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, coherent.path(), "dma_direct_alloc(): remap needs the pool");
            NoncoherentBuffer pages = device.allocPages(4096, DmaDirection.TO_DEVICE, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.PAGES, pages.path(), "dma_direct_alloc_pages(): nothing to remap");
            coherent.close();
            pages.close();
        }
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB)
                .encryptionMask(C_BIT).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-32"));
            assertTrue(device.forcedUnencrypted());
            NoncoherentBuffer atomic = device.allocPages(4096, DmaDirection.TO_DEVICE, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, atomic.path(), "force_dma_unencrypted() && dma_direct_use_pool()");
            assertEquals(0, atomic.dmaAddress() & C_BIT);
            assertTrue(platform.encryption().isShared(atomic.dmaAddress()));
            atomic.close();
            NoncoherentBuffer blocking = device.allocPages(4096, DmaDirection.TO_DEVICE);
            assertEquals(AllocationPath.PAGES, blocking.path());
            long phys = blocking.dmaAddress();
            assertEquals(0, phys & C_BIT, "phys_to_dma_direct() of decrypted memory");
            assertTrue(platform.encryption().isShared(phys), "dma_set_decrypted()");
            blocking.close();
            assertFalse(platform.encryption().isShared(phys), "dma_direct_free_pages(): dma_set_encrypted()");
        }
    }

    @Test
    void aRestrictedDeviceTakesTheBouncePoolWithoutCacheWork() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("restricted").withRestrictedPool(true)
                    .withCoherent(false));
            NoncoherentBuffer pages = device.allocPages(100, DmaDirection.TO_DEVICE);
            assertEquals(AllocationPath.SWIOTLB, pages.path());
            assertEquals(0, platform.caches().cleanCalls(), "no arch_dma_prep_coherent() for pages");
            assertEquals(0, pages.cpuView().get(99));
            pages.syncForDevice();
            assertEquals(100, platform.caches().cleanedBytes(), "the sync cleans; swiotlb has no original to copy");
            pages.close();
            long cleansBefore = platform.caches().cleanCalls();
            DmaBuffer coherent = device.allocCoherent(100);
            assertEquals(cleansBefore + 1, platform.caches().cleanCalls(), "a coherent allocation is prepared");
            coherent.close();
        }
    }

    @Test
    void noncontiguousMemoryIsOneSegmentOfThePageAlignedSize() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sgt"));
            NoncontiguousBuffer buffer = device.allocNoncontiguous(10_000, DmaDirection.FROM_DEVICE,
                    DmaAttr.ALLOC_SINGLE_PAGES);
            assertEquals(List.of(new DmaSegment(buffer.dmaAddress(), 12_288)), buffer.segments(),
                    "alloc_single_sgt(): sg_dma_len = PAGE_ALIGN(size)");
            ByteBuffer vmap = buffer.vmap();
            assertEquals(10_000, vmap.capacity());
            vmap.put(9_999, (byte) 7);
            assertEquals(7, buffer.cpuView().get(9_999), "dma_vmap_noncontiguous() is page_address() of the one page");
            device.freeNoncontiguous(buffer);
            assertTrue(buffer.isFreed());
        }
    }

    @Test
    void freeingTheWrongWayIsRefusedAndLeaksNothing() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("owner"));
            DmaDevice other = platform.attach(DeviceProperties.simple("other"));
            MemoryStats before = platform.memoryStats();
            NoncoherentBuffer pages = device.allocPages(4096, DmaDirection.TO_DEVICE);
            NoncontiguousBuffer sgt = device.allocNoncontiguous(4096, DmaDirection.TO_DEVICE);
            assertTrue(assertThrows(DmaUsageException.class, () -> other.freePages(pages)).getMessage()
                    .contains("another device"));
            assertTrue(assertThrows(DmaUsageException.class, () -> device.freePages(sgt)).getMessage()
                    .contains("freeNoncontiguous"));
            NoncontiguousBuffer foreign = new NoncontiguousBuffer() {
                public DmaDevice device() { return device; }
                public long dmaAddress() { return pages.dmaAddress(); }
                public long size() { return 4096; }
                public long allocatedSize() { return 4096; }
                public DmaDirection direction() { return DmaDirection.TO_DEVICE; }
                public io.dmadirect.Zone zone() { return pages.zone(); }
                public AllocationPath path() { return pages.path(); }
                public io.dmadirect.AllocationReport report() { return pages.report(); }
                public ByteBuffer cpuView() { return ByteBuffer.allocate(4096); }
                public void syncForDevice(long offset, long length) { }
                public void syncForCpu(long offset, long length) { }
                public boolean isFreed() { return false; }
                public void close() { }
                public List<DmaSegment> segments() { return List.of(); }
            };
            assertTrue(assertThrows(DmaUsageException.class, () -> device.freeNoncontiguous(foreign)).getMessage()
                    .contains("no dmadirect device"));
            assertFalse(pages.isFreed(), "a refused free frees nothing");
            device.freePages(pages);
            DmaUsageException twice = assertThrows(DmaUsageException.class, () -> device.freePages(pages));
            assertTrue(twice.getMessage().contains("double free"), twice.getMessage());
            assertThrows(DmaUsageException.class, pages::close, "close is a free too");
            sgt.close();
            assertTrue(device.findBuffer(sgt.dmaAddress()).isEmpty());
            platform.drainThreadCaches();
            assertEquals(before, platform.memoryStats());
        }
    }

    @Test
    void pagesMemoryIsNotACoherentBufferToFindOrFree() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("lookup"));
            NoncoherentBuffer pages = device.allocPages(4096, DmaDirection.TO_DEVICE);
            assertTrue(device.findBuffer(pages.dmaAddress()).isEmpty(),
                    "findBuffer() gives DmaBuffers: memory of dma_alloc_attrs()");
            pages.close();
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingIsAllocated() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("bad"));
            MemoryStats before = platform.memoryStats();
            assertThrows(IllegalArgumentException.class, () -> device.allocPages(0, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> device.allocNoncontiguous(-5, DmaDirection.TO_DEVICE));
            assertThrows(NullPointerException.class, () -> device.allocPages(4096, null));
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> device.allocPages(4096, DmaDirection.NONE));
            assertTrue(none.getMessage().contains("NONE"), none.getMessage());
            for (DmaAttr attr : new DmaAttr[] {DmaAttr.NO_KERNEL_MAPPING, DmaAttr.SKIP_CPU_SYNC, DmaAttr.WEAK_ORDERING,
                DmaAttr.WRITE_COMBINE, DmaAttr.FORCE_CONTIGUOUS, DmaAttr.ALLOC_SINGLE_PAGES, DmaAttr.PRIVILEGED}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> device.allocPages(4096, DmaDirection.TO_DEVICE, attr), "dma_alloc_pages() has no attrs");
                assertTrue(e.getMessage().contains(attr.name()), e.getMessage());
                if (attr != DmaAttr.ALLOC_SINGLE_PAGES) {
                    assertThrows(IllegalArgumentException.class,
                            () -> device.allocNoncontiguous(4096, DmaDirection.TO_DEVICE, attr),
                            "dma_alloc_noncontiguous(): WARN_ON_ONCE(attrs & ~DMA_ATTR_ALLOC_SINGLE_PAGES)");
                }
            }
            assertEquals(before, platform.memoryStats());
        }
    }

    @Test
    void aFailedAllocationNamesWhatWasAsked() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("big"));
            DmaAllocationException e = assertThrows(DmaAllocationException.class,
                    () -> device.allocPages(256 * MiB, DmaDirection.TO_DEVICE, DmaAttr.NO_WARN));
            assertTrue(e.getMessage().contains("non-coherent DMA memory") && e.getMessage().contains("256 MiB"),
                    e.getMessage());
        }
    }

    @Test
    void theDevicesCloseFreesWhatIsLeftAndEverythingAfterwardsIsRefused() {
        try (SimulatedPlatform platform = platform()) {
            MemoryStats before = platform.memoryStats();
            DmaDevice device = platform.attach(DeviceProperties.simple("closing").withCoherent(false));
            NoncoherentBuffer pages = device.allocPages(10_000, DmaDirection.TO_DEVICE);
            NoncontiguousBuffer sgt = device.allocNoncontiguous(3 * MiB, DmaDirection.FROM_DEVICE);
            device.close();
            assertTrue(pages.isFreed() && sgt.isFreed(), "the device's close freed them");
            pages.close();
            sgt.close();
            assertThrows(DmaUsageException.class, pages::syncForDevice);
            assertThrows(DmaUsageException.class, sgt::syncForCpu);
            assertThrows(DmaUsageException.class, sgt::vmap);
            assertThrows(DmaUsageException.class, () -> device.freePages(pages));
            assertThrows(DmaUsageException.class, () -> device.allocPages(4096, DmaDirection.TO_DEVICE));
            assertThrows(DmaUsageException.class, () -> device.allocNoncontiguous(4096, DmaDirection.TO_DEVICE));
            platform.drainThreadCaches();
            assertEquals(before, platform.memoryStats());
        }
    }
}
