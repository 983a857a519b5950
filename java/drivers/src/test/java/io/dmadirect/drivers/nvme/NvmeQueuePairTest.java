package io.dmadirect.drivers.nvme;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pure parts of the driver: PRP page lists, register fields and status names. */
class NvmeQueuePairTest {

    @Test
    void oneOrTwoPagesNeedNoList() {
        assertArrayEquals(new long[0], NvmeQueuePair.prpPages(0x10000, 4096));
        assertArrayEquals(new long[0], NvmeQueuePair.prpPages(0x10200, 3584));
        assertArrayEquals(new long[] {0x11000}, NvmeQueuePair.prpPages(0x10200, 4096));
        assertArrayEquals(new long[] {0x11000}, NvmeQueuePair.prpPages(0x10000, 8192));
    }

    @Test
    void largerTransfersListEveryFollowingPage() {
        long[] pages = NvmeQueuePair.prpPages(0x7f00040000L, 128 * 1024);
        assertEquals(31, pages.length);
        assertEquals(0x7f00041000L, pages[0]);
        assertEquals(0x7f0005f000L, pages[30]);
        // an offset in the first page (a bounced byte[] keeps it under min_align_mask) adds a page
        assertEquals(32, NvmeQueuePair.prpPages(0x7f00040200L, 128 * 1024).length);
    }

    @Test
    void capFieldsOfTheRigController() {
        long cap = 0x004018200f0107ffL;
        assertEquals(2048, NvmeRegisters.maxQueueEntries(cap));
        assertEquals(4, NvmeRegisters.doorbellStride(cap));
        assertEquals(7500, NvmeRegisters.readyTimeoutMillis(cap));
        assertEquals(4096, NvmeRegisters.minPageSize(cap));
        assertTrue(NvmeRegisters.supportsNvmCommandSet(cap));
        assertEquals(0x1000 + 7 * 16, NvmeRegisters.completionDoorbell(3, 4 << 2)); // DSTRD 2
    }

    @Test
    void statusNamesTheCommandAndTheCode() {
        NvmeException e = new NvmeException("Read (nsid 1, LBA 131072, 8 blocks)", 1, 0x4080);
        assertEquals("NVMe Read (nsid 1, LBA 131072, 8 blocks) on queue 1 failed: status 0x4080 = SCT 0 SC 0x80 "
                + "(LBA Out of Range), DNR", e.getMessage());
        assertEquals(0, e.statusCodeType());
        assertEquals(0x80, e.statusCode());
    }
}
