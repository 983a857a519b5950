package io.dmadirect.lifecycle;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.ScatterList;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's findings 2, 3, 5 and 6 on the simulated platform, one test each (findings 1 and 2 crash
 * only on real hugepages: {@code io.dmadirect.linux.CloseRaceHostTest}).
 */
class CloseRegressionTest {

    private static SimulatedPlatform platform() {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(64 * MiB, 64 * MiB).build();
    }

    /** Finding 2: a direct mapping of a non-coherent device after platform close is refused, not synced. */
    @Test
    void finding2DirectMappingAfterPlatformCloseIsRefusedAndTouchesNoCache() {
        SimulatedPlatform platform = platform();
        DmaDevice device = platform.attach(DeviceProperties.simple("noncoherent").withCoherent(false));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        DmaBuffer buffer = device.allocCoherent(64 * 1024);
        DmaMapping mapping = device.map(buffer.cpuView(), DmaDirection.BIDIRECTIONAL);
        assertTrue(!mapping.isBounced(), "a direct mapping: " + mapping);
        platform.close();
        long cleans = platform.caches().cleanCalls();
        long invalidates = platform.caches().invalidateCalls();

        DmaUsageException e = assertThrows(DmaUsageException.class,
                () -> device.syncForDevice(mapping, DmaDirection.BIDIRECTIONAL));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        assertThrows(DmaUsageException.class, () -> device.syncForCpu(mapping, DmaDirection.BIDIRECTIONAL));
        assertThrows(DmaUsageException.class, () -> device.unmap(mapping));
        assertDoesNotThrow(mapping::close, "close of a mapping its device's close released is quiet");
        assertTrue(mapping.isUnmapped(), "closing the device released its direct mappings too");
        assertEquals(cleans, platform.caches().cleanCalls(), "no cache maintenance on memory after close");
        assertEquals(invalidates, platform.caches().invalidateCalls());
    }

    /** The contract for views kept past close, as on Linux: zeros, never a crash, and no exception. */
    @Test
    void aViewKeptPastPlatformCloseReadsZeros() {
        SimulatedPlatform platform = platform();
        DmaDevice device = platform.attach(DeviceProperties.simple("view"));
        ByteBuffer view = device.allocCoherent(4096).cpuView();
        view.putLong(0, 0x0123_4567_89ab_cdefL);
        platform.close();
        assertEquals(0, view.getLong(0));
        view.putLong(8, 1); // harmless
    }

    /**
     * Finding 3: buffers and bounced mappings made while the device closes are freed by that close or
     * refused, never left behind. Many rounds, each a new device closed while two threads allocate and map.
     */
    @Test
    void finding3NothingCreatedDuringCloseEscapesIt() throws Exception {
        try (SimulatedPlatform platform = platform()) {
            platform.drainThreadCaches();
            MemoryStats start = platform.memoryStats();
            for (int round = 0; round < 300; round++) {
                DmaDevice device = platform.attach(DeviceProperties.simple("leaky-" + round));
                device.setMaskAndCoherent(DmaMask.BITS_64);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int id = t;
                    Thread thread = new Thread(() -> {
                        byte[] heap = new byte[3000];
                        try {
                            while (true) {
                                try {
                                    if (id == 0) {
                                        device.allocCoherent(8192); // kept: the device's close must free it
                                    } else {
                                        device.map(heap, 0, heap.length, DmaDirection.TO_DEVICE); // bounced, kept
                                    }
                                } catch (DmaAllocationException | DmaMappingException full) {
                                    Thread.onSpinWait(); // documented exhaustion: wait for close
                                }
                            }
                        } catch (DmaUsageException closed) {
                            // refused after close: documented
                        } catch (Throwable other) {
                            failure.set(other);
                        }
                    });
                    thread.start();
                    threads.add(thread);
                }
                Thread.sleep(0, 200_000);
                device.close();
                for (Thread thread : threads) {
                    thread.join(10_000);
                }
                assertEquals(null, failure.get());
                platform.drainThreadCaches();
                assertEquals(start, platform.memoryStats(), "round " + round + ": memory left behind by close");
                assertEquals(0, platform.direct().swiotlb().usedSlots(), "round " + round + ": bounce slots left");
            }
        }
    }

    /** Finding 5: a scatter list with one segment unmapped alone still releases every other segment. */
    @Test
    void finding5ScatterListCloseReleasesEverySegmentThenReportsTheMisuse() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sg"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            List<ByteBuffer> heap = List.of(ByteBuffer.allocate(4096), ByteBuffer.allocate(4096),
                    ByteBuffer.allocate(4096));
            ScatterList list = device.mapSg(heap, DmaDirection.TO_DEVICE);
            assertTrue(list.segments().get(0).isBounced(), "heap segments bounce");
            assertTrue(platform.direct().swiotlb().usedSlots() > 0);
            list.segments().get(0).close(); // a driver bug: a segment unmapped on its own

            DmaUsageException e = assertThrows(DmaUsageException.class, list::close);
            assertTrue(e.getMessage().contains("segments [0]"), e.getMessage());
            assertTrue(list.isUnmapped());
            for (DmaMapping segment : list.segments()) {
                assertTrue(segment.isUnmapped(), segment + " still mapped");
            }
            assertEquals(0, platform.direct().swiotlb().usedSlots(), "the later segments kept their bounce slots");
            e = assertThrows(DmaUsageException.class, list::close);
            assertTrue(e.getMessage().contains("double unmap"), e.getMessage());
        }
    }

    /** Finding 6: every setter of a closed device throws, and allocation after platform close says closed. */
    @Test
    void finding6ClosedDeviceRefusesSettersAndAllocations() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("closed"));
            device.close();
            assertTrue(assertThrows(DmaUsageException.class, () -> device.setMinAlignMask(0xfff))
                    .getMessage().contains("is closed"));
            assertThrows(DmaUsageException.class, () -> device.setDmaMask(DmaMask.BITS_64));
            assertThrows(DmaUsageException.class, () -> device.setCoherentMask(DmaMask.BITS_64));
            assertThrows(DmaUsageException.class, () -> device.setMaskAndCoherent(DmaMask.BITS_64));
            assertEquals(0, device.minAlignMask(), "the refused setter changed nothing");
            DmaDevice other = platform.attach(DeviceProperties.simple("other"));
            platform.close();
            DmaUsageException e = assertThrows(DmaUsageException.class, () -> other.allocCoherent(4096));
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
            assertThrows(DmaUsageException.class, () -> other.setMinAlignMask(0));
        }
    }
}
