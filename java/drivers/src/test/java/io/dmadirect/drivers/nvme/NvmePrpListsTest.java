package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PRP lists from the controller's {@code dma_pool}s (Linux's nvme_pci_setup_prps / nvme_free_prps): which pool a
 * transfer's list comes from, that the controller reads the entries at PRP 2, and that every way a cid becomes free
 * again (completion, a late completion after a timeout, a submission that failed) gives its list back.
 */
class NvmePrpListsTest {
    private static final int DEPTH = 4;
    private static final int QID = 1;

    private SimulatedPlatform platform;
    private DmaDevice dma;
    private DmaPool pagePool;
    private DmaPool smallPool;
    private NvmePrpLists lists;
    private NvmeQueueRing ring;
    private ControllerCompletions completions;

    @BeforeEach
    void setUp() {
        platform = SimulatedPlatform.builder().region(0, 16 * Sizes.MiB).build();
        dma = platform.attach(DeviceProperties.simple("nvme-sim"));
        dma.setMaskAndCoherent(DmaMask.BITS_64);
        DmaPool[] pools = NvmePrpLists.createPools(dma);
        pagePool = pools[0];
        smallPool = pools[1];
        lists = new NvmePrpLists(pagePool, smallPool, DEPTH);
        ring = new NvmeQueueRing(dma, new NvmeQueueRingTest.Doorbells(), (sqid, cid) -> "not aborted", QID, DEPTH, 4,
                null, lists::release);
        completions = new ControllerCompletions(ring);
    }

    @AfterEach
    void tearDown() {
        ring.close();
        platform.close();
    }

    @ParameterizedTest(name = "{1} bytes at {0}: {2}")
    @CsvSource({
        "0x10000, 4096,    none",
        "0x10200, 4096,    second page",
        "0x10000, 8192,    second page",
        "0x10000, 12288,   small",      // 2 entries
        "0x10000, 131072,  small",      // 31 entries
        "0x10200, 134656,  small",      // 32 entries: 256 bytes exactly
        "0x10000, 139264,  page",       // 33 entries
        "0x10000, 2097152, page",       // 511 entries: the driver's 2 MiB limit
    })
    void aTransferTakesTheListItsEntriesNeed(long address, long bytes, String expected) {
        long prp2 = lists.build(0, address, bytes);
        long[] entries = NvmeQueuePair.prpPages(address, bytes);
        switch (expected) {
            case "none" -> assertEquals(0, prp2);
            case "second page" -> assertEquals(entries[0], prp2);
            default -> {
                DmaPool from = expected.equals("small") ? smallPool : pagePool;
                assertEquals(1, from.activeBlocks(), "the list came from the " + from.name() + " pool");
                assertEquals(0, prp2 % from.blockSize(), "aligned to its size, so it crosses no page");
                ByteBuffer seen = ByteBuffer.wrap(platform.busMaster(dma, 64).read(prp2, entries.length * 8))
                        .order(ByteOrder.LITTLE_ENDIAN);
                long[] read = new long[entries.length];
                for (int i = 0; i < read.length; i++) {
                    read[i] = seen.getLong(8 * i);
                }
                assertArrayEquals(entries, read, "the controller reads the entries at PRP 2");
            }
        }
        lists.release(0);
        assertEquals(0, smallPool.activeBlocks() + pagePool.activeBlocks(), "released");
    }

    @Test
    void aCompletedCommandGivesItsListBack() {
        int cid = NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 32, 0x10000, 16 * 4096);
        assertEquals(1, lists.held());
        complete(cid);
        ring.await(cid, Duration.ofSeconds(1));
        assertEquals(0, lists.held());
        assertEquals(0, smallPool.activeBlocks());
    }

    @Test
    void aFailedSubmissionGivesItsCidAndListBack() {
        // More than one list page of entries: refused before anything is submitted.
        for (int i = 0; i < 2 * ring.capacity(); i++) {
            assertThrows(IllegalArgumentException.class,
                    () -> NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 8, 0x10000, 4L * Sizes.MiB));
        }
        // The list pool failing (here: closed) is the other way a build fails.
        pagePool.close();
        for (int i = 0; i < 2 * ring.capacity(); i++) {
            assertThrows(DmaUsageException.class,
                    () -> NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 8, 0x10000, 40 * 4096));
        }
        assertEquals(0, ring.outstanding(), "no cid was lost to the failures");
        for (int i = 0; i < ring.capacity(); i++) {
            NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 8, 0x10000, 3 * 4096);
        }
        assertEquals(ring.capacity(), lists.held(), "every cid could be taken and holds its list");
    }

    @Test
    void aTimedOutCommandKeepsItsListUntilItsLateCompletion() {
        int cid = NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 8, 0x10000, 3 * 4096);
        assertThrows(NvmeTimeoutException.class, () -> ring.await(cid, Duration.ofMillis(10)));
        assertEquals(1, lists.held(), "the controller may still read the list");
        complete(cid);
        ring.poll((c, st) -> { });
        assertEquals(0, lists.held(), "the late completion freed it");
    }

    @Test
    void closeGivesBackWhatCommandsStillHeldSoThePoolsCloseEmpty() {
        NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 8, 0x10000, 3 * 4096);
        NvmeQueuePair.submitWithPrp(ring, lists, IO_READ, 1, 0, 8, 0x10000, 64 * 4096);
        assertThrows(DmaUsageException.class, smallPool::close, "busy while a list is held");
        lists.releaseAll();
        smallPool.close();
        pagePool.close();
        assertTrue(smallPool.pageCount() == 0 && pagePool.pageCount() == 0);
    }

    private void complete(int cid) {
        completions.post(cid, 0, 0);
    }
}
