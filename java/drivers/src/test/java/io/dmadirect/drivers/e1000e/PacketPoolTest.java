package io.dmadirect.drivers.e1000e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaDevice;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The packet pool: fixed buffers in one coherent allocation, a free stack, handles checked. */
class PacketPoolTest {
    private SimulatedPlatform platform;
    private DmaDevice dma;
    private PacketPool pool;

    @BeforeEach
    void setUp() {
        platform = SimulatedPlatform.builder().region(0, 16 * Sizes.MiB).build();
        dma = platform.attach(DeviceProperties.simple("pool-sim"));
        pool = PacketPool.create(dma, 8);
    }

    @AfterEach
    void tearDown() {
        pool.close();
        platform.close();
    }

    @Test
    void everyBufferIsHandedOutOnceThenTheEmptyPoolSaysSoAndCounts() {
        Set<Integer> seen = new HashSet<>();
        Set<Long> addresses = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            int h = pool.alloc();
            assertTrue(seen.add(h), "handle " + h + " twice");
            assertEquals(0, pool.dmaAddress(h) % PacketPool.BUFFER_BYTES - pool.dmaAddress(0) % PacketPool.BUFFER_BYTES);
            addresses.add(pool.dmaAddress(h));
        }
        assertEquals(8, addresses.size());
        assertEquals(0, pool.available());
        assertEquals(PacketPool.NO_BUFFER, pool.alloc());
        assertEquals(1, pool.allocFailures());
        pool.free(3);
        assertEquals(3, pool.alloc(), "the freed buffer is the next one out");
    }

    @Test
    void aBatchTakesWhatIsLeftAndCountsTheShortfallOnce() {
        int[] out = new int[12];
        assertEquals(8, pool.allocBatch(out, 2, 10));
        assertEquals(1, pool.allocFailures());
        pool.freeBatch(out, 2, 8);
        assertEquals(8, pool.available());
    }

    @Test
    void aDoubleFreeIsRefusedAndChangesNothing() {
        int h = pool.alloc();
        pool.free(h);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.free(h));
        assertTrue(e.getMessage().contains("packet buffer " + h + " is free"), e.getMessage());
        assertEquals(8, pool.available());
        assertThrows(IllegalArgumentException.class, () -> pool.free(8));
        assertThrows(IllegalArgumentException.class, () -> pool.free(-1));
    }

    @Test
    void bytesWrittenAreReadBackAndTheLengthIsKept() {
        int h = pool.alloc();
        byte[] frame = new byte[1514];
        for (int i = 0; i < frame.length; i++) {
            frame[i] = (byte) (i * 7);
        }
        pool.write(h, frame, 0, frame.length);
        assertEquals(1514, pool.length(h));
        byte[] back = new byte[2048];
        assertEquals(1514, pool.read(h, back, 0));
        assertArrayEquals(frame, java.util.Arrays.copyOf(back, 1514));
        assertEquals(frame[100], pool.data().get(pool.offsetOf(h) + 100));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 2049})
    void lengthsBeyondABufferAreRefused(int n) {
        int h = pool.alloc();
        assertThrows(IllegalArgumentException.class, () -> pool.setLength(h, n));
    }

    @Test
    void aClosedPoolRefusesEverything() {
        int h = pool.alloc();
        pool.close();
        assertThrows(IllegalStateException.class, pool::alloc);
        assertThrows(IllegalStateException.class, () -> pool.free(h));
        assertThrows(IllegalStateException.class, () -> pool.length(h));
        pool.close(); // idempotent
    }

    @Test
    void poolSizesOutOfRangeAreRefusedAndAFailedAllocationLeavesNothing() {
        assertThrows(IllegalArgumentException.class, () -> PacketPool.create(dma, 0));
        assertThrows(IllegalArgumentException.class, () -> PacketPool.create(dma, 65537));
        long before = platform.memoryStats().available();
        assertThrows(DmaAllocationException.class, () -> PacketPool.create(dma, 16 * 1024)); // 32 MiB > the 16 MiB region
        assertEquals(before, platform.memoryStats().available());
    }
}
