package io.dmadirect.dmapool;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.testing.CapturedLogs;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** mm/dmapool.c's rules on the simulated platform, each row or case one rule. */
class DmaPoolTest {
    private SimulatedPlatform platform;
    private DmaDevice device;

    @BeforeEach
    void open() {
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 16 * MiB).build();
        device = platform.attach(DeviceProperties.simple("pooldev"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
    }

    @AfterEach
    void close() {
        platform.close();
    }

    /**
     * Two pages' worth of blocks: each is aligned, crosses no boundary, overlaps no other, and its CPU view is the
     * memory the device reads at its DMA address.
     */
    @ParameterizedTest(name = "size {0} align {1} boundary {2}")
    @CsvSource({"1, 0, 0", "24, 0, 64", "24, 32, 0", "64, 64, 0", "100, 0, 128", "512, 512, 4096", "3000, 0, 0",
        "4096, 4096, 4096", "6000, 0, 0", "8192, 0, 0", "16384, 16384, 0", "256, 256, 256"})
    void blocksKeepAlignmentAndBoundaryAndTheCpuSeesWhatTheDeviceReads(long size, long align, long boundary) {
        DmaPool pool = device.createPool("placement", size, align, boundary);
        SimulatedBusMaster bus = platform.busMaster(device, 64);
        int n = 2 * PoolGeometry.of(size, align, boundary).blocksPerPage();
        List<Long> blocks = new ArrayList<>();
        long bs = pool.blockSize();
        for (int i = 0; i < n; i++) {
            long dma = pool.alloc(0);
            blocks.add(dma);
            assertEquals(0, dma % Math.max(1, align), "block " + Sizes.hex(dma) + " aligned to " + align);
            long b = pool.boundary();
            if (Long.bitCount(b) == 1) { // else the boundary is a page bigger than 4 KiB holding one block
                assertEquals(dma / b, (dma + bs - 1) / b, "block " + Sizes.hex(dma) + " crosses a " + b + " boundary");
            }
            byte[] pattern = new byte[(int) bs];
            Arrays.fill(pattern, (byte) (i + 1));
            ByteBuffer page = pool.pageView(dma);
            int offset = pool.pageOffset(dma);
            for (int k = 0; k < bs; k++) {
                page.put(offset + k, pattern[k]);
            }
            assertArrayEquals(pattern, bus.read(dma, (int) bs), "the device reads what the CPU wrote at " + Sizes.hex(dma));
        }
        long[] sorted = blocks.stream().mapToLong(Long::longValue).sorted().toArray();
        for (int i = 1; i < sorted.length; i++) {
            assertTrue(sorted[i] >= sorted[i - 1] + bs, "blocks overlap: " + Sizes.hex(sorted[i - 1]) + ", "
                    + Sizes.hex(sorted[i]));
        }
        assertEquals(2, pool.pageCount());
        assertEquals(n, pool.activeBlocks());
        assertEquals(n, pool.totalBlocks());
        for (long dma : blocks) {
            pool.free(dma);
        }
        assertEquals(0, pool.activeBlocks());
        pool.close();
    }

    @Test
    void aPageIsAddedOnlyWhenNoBlockIsFreeAndKeptWhenAllAreFreed() {
        DmaPool pool = device.createPool("growth", 512, 0, 0);
        assertEquals(0, pool.pageCount(), "no page before the first allocation");
        long[] first = new long[8];
        for (int i = 0; i < 8; i++) {
            first[i] = pool.alloc(0);
        }
        assertEquals(1, pool.pageCount());
        long ninth = pool.alloc(0);
        assertEquals(2, pool.pageCount(), "the ninth 512-byte block needs a second page");
        for (long dma : first) {
            pool.free(dma);
        }
        pool.free(ninth);
        assertEquals(2, pool.pageCount(), "pages stay until the pool is destroyed ('have a few empty pages hang around')");
        assertEquals(16, pool.totalBlocks());
        pool.close();
    }

    @Test
    void aNewPageHandsOutItsBlocksInAddressOrderAndTheLastFreedIsReusedFirst() {
        DmaPool pool = device.createPool("lifo", 64, 0, 0);
        long a = pool.alloc(0);
        long b = pool.alloc(0);
        long c = pool.alloc(0);
        assertEquals(a + 64, b, "pool_initialise_page links the blocks in address order");
        assertEquals(b + 64, c);
        pool.free(a);
        pool.free(c);
        assertEquals(c, pool.alloc(0), "the block freed last comes back first");
        assertEquals(a, pool.alloc(0));
        assertEquals(c + 64, pool.alloc(0), "then the page's untouched blocks");
    }

    @Test
    void zallocZeroesABlockThatHeldData() {
        DmaPool pool = device.createPool("zero", 128, 0, 0);
        long dma = pool.alloc(0);
        ByteBuffer page = pool.pageView(dma);
        for (int k = 0; k < 128; k++) {
            page.put(pool.pageOffset(dma) + k, (byte) 0x5a);
        }
        pool.free(dma);
        long again = pool.zalloc(0);
        assertEquals(dma, again, "the same block, reused");
        assertArrayEquals(new byte[128], platform.busMaster(device, 64).read(again, 128), "zeroed");
    }

    @Test
    void atomicAllocationGrowsWithoutBlocking() {
        DmaPool pool = device.createPool("atomic", 256, 0, 0);
        int atomic = DmaAttr.flags(DmaAttr.ATOMIC);
        long dma = pool.alloc(atomic);
        assertEquals(1, pool.pageCount());
        pool.free(dma);
        assertThrows(IllegalArgumentException.class, () -> pool.alloc(DmaAttr.flags(DmaAttr.SKIP_CPU_SYNC)));
    }

    @Test
    void aBadFreeIsRefusedNamingThePoolAndAddressAndChangesNothing() {
        DmaPool pool = device.createPool("nvme-prp", 256, 256, 0);
        DmaPool other = device.createPool("other", 256, 256, 0);
        long live = pool.alloc(0);
        long foreign = other.alloc(0);
        long freed = pool.alloc(0);
        pool.free(freed);

        String[][] cases = {
            {Long.toString(foreign), "lies in none of the pool's 1 pages (bad dma)"},
            {Long.toString(live + 8), "is not the start of a block"},
            {Long.toString(freed), "already free (double free)"},
            {Long.toString(0), "bad dma"},
            {Long.toString(-1L), "bad dma"},
        };
        for (String[] c : cases) {
            long address = Long.parseLong(c[0]);
            DmaUsageException e = assertThrows(DmaUsageException.class, () -> pool.free(address), c[1]);
            assertTrue(e.getMessage().contains("nvme-prp") && e.getMessage().contains(Sizes.hex(address))
                    && e.getMessage().contains(c[1]), e.getMessage());
            assertEquals(1, pool.activeBlocks(), "a refused free changes nothing");
        }
        assertEquals(freed, pool.alloc(0), "the free list is intact after the refusals");
        pool.free(live);
        pool.free(freed);
        other.free(foreign);
    }

    @Test
    void destroyWithBusyBlocksIsRefusedAndThePoolStaysUsable() {
        long before = platform.memoryStats().available();
        DmaPool pool = device.createPool("busy", 64, 0, 0);
        long a = pool.alloc(0);
        long b = pool.alloc(0);
        DmaUsageException e = assertThrows(DmaUsageException.class, pool::close);
        assertTrue(e.getMessage().contains("busy") && e.getMessage().contains("2 of its blocks"), e.getMessage());
        pool.free(a);
        long c = pool.alloc(0);
        pool.free(b);
        pool.free(c);
        pool.close();
        assertDoesNotThrow(pool::close, "destroy is idempotent");
        platform.drainThreadCaches();
        assertEquals(before, platform.memoryStats().available(), "destroy gave the pages back");
        DmaUsageException after = assertThrows(DmaUsageException.class, () -> pool.alloc(0));
        assertTrue(after.getMessage().contains("destroyed"), after.getMessage());
        assertThrows(DmaUsageException.class, () -> pool.free(a));
    }

    @Test
    void closingTheDeviceClosesItsPoolsAndFreesTheirPages() {
        long before = platform.memoryStats().available();
        DmaPool pool = device.createPool("closing", 512, 0, 0);
        DmaPool.Block block = pool.allocBlock();
        long dma = pool.alloc(0);
        ByteBuffer view = pool.pageView(dma);
        device.close();
        platform.drainThreadCaches();
        assertEquals(before, platform.memoryStats().available(), "the device's close freed the pool's pages");
        for (Runnable op : new Runnable[] {() -> pool.alloc(0), () -> pool.zalloc(0), () -> pool.free(dma),
            () -> pool.pageView(dma), () -> pool.allocBlock(), block::cpuView}) {
            DmaUsageException e = assertThrows(DmaUsageException.class, op::run);
            assertTrue(e.getMessage().contains("device pooldev is closed"), e.getMessage());
        }
        assertDoesNotThrow(pool::close, "closing a pool of a closed device is quiet, as a buffer's close");
        assertDoesNotThrow(block::close);
        assertThrows(DmaUsageException.class, () -> device.createPool("late", 64, 0, 0));
        assertNotEquals(null, view);
    }

    @Test
    void closingThePlatformClosesThePools() {
        DmaPool pool = device.createPool("platform", 64, 0, 0);
        pool.alloc(0);
        platform.close();
        assertThrows(DmaUsageException.class, () -> pool.alloc(0));
    }

    @Test
    void theObjectPathFreesOnceAndViewsTheBlock() {
        DmaPool pool = device.createPool("objects", 96, 32, 0);
        try (DmaPool.Block block = pool.zallocBlock()) {
            assertEquals(96, block.size());
            ByteBuffer view = block.cpuView();
            assertEquals(96, view.remaining());
            view.putLong(0, 0x1122334455667788L);
            byte[] seen = platform.busMaster(device, 64).read(block.dmaAddress(), 8);
            assertEquals(0x88, seen[0] & 0xff, "little-endian, as the device reads it");
            assertEquals(1, pool.activeBlocks());
            DmaPool.Block again = block;
            again.close();
            DmaUsageException e = assertThrows(DmaUsageException.class, again::close);
            assertTrue(e.getMessage().contains("double free"), e.getMessage());
            assertThrows(DmaUsageException.class, again::cpuView);
            // The next allocation reuses the address; the stale block must not free it.
            long reused = pool.alloc(0);
            assertEquals(block.dmaAddress(), reused);
            assertThrows(DmaUsageException.class, again::close);
            assertEquals(1, pool.activeBlocks());
            pool.free(reused);
        } catch (DmaUsageException expected) {
            // try-with-resources closes the block a third time
        }
        assertEquals(0, pool.activeBlocks());
    }

    @Test
    void debugPoisonsFreeBlocksAndReportsAWriteAfterFree() {
        BlockPool pool = new BlockPool(device, "debug", PoolGeometry.of(64, 0, 0), true, p -> { });
        long dma = pool.alloc(0);
        byte[] allocated = new byte[64];
        Arrays.fill(allocated, BlockPool.POISON_ALLOCATED);
        SimulatedBusMaster bus = platform.busMaster(device, 64);
        assertArrayEquals(allocated, bus.read(dma, 64), "an allocated block holds POOL_POISON_ALLOCATED");
        pool.free(dma);
        byte[] freed = new byte[64];
        Arrays.fill(freed, BlockPool.POISON_FREED);
        assertArrayEquals(freed, bus.read(dma, 64), "a freed block holds POOL_POISON_FREED");
        assertArrayEquals(freed, bus.read(dma + 64, 64), "so does a block never allocated");

        bus.write(dma + 10, new byte[] {1});
        List<LogRecord> logs = CapturedLogs.capture("io.dmadirect.dmapool", Level.SEVERE, () -> pool.alloc(0));
        assertEquals(1, logs.size(), "one report of the corruption");
        assertTrue(logs.get(0).getMessage().contains("(corrupted)") && logs.get(0).getMessage().contains("byte 10"),
                logs.get(0).getMessage());
        List<LogRecord> quiet = CapturedLogs.capture("io.dmadirect.dmapool", Level.SEVERE, () -> pool.zalloc(0));
        assertTrue(quiet.isEmpty(), "an untouched block passes");
        assertArrayEquals(new byte[64], bus.read(dma + 64, 64), "zalloc zeroes instead of poisoning");
    }

    @Test
    void distinctPoolsOfOneDeviceShareNoBlock() {
        DmaPool a = device.createPool("a", 128, 0, 0);
        DmaPool b = device.createPool("b", 128, 0, 0);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            assertTrue(seen.add(a.alloc(0)));
            assertTrue(seen.add(b.alloc(0)));
        }
    }
}
