package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.LinuxException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pagemap entry layout: PFN bits 0-54, swapped bit 62, present bit 63. */
class PagemapEntryTest {

    @Test
    void presentEntryGivesPfnWithoutFlagBits() {
        // present, soft-dirty (55) and exclusive (56) set around a PFN that uses all 55 bits
        long pfn = (1L << 55) - 1;
        PagemapEntry e = new PagemapEntry(1L << 63 | 1L << 56 | 1L << 55 | pfn);
        assertTrue(e.present());
        assertFalse(e.swapped());
        assertEquals(pfn, e.pfn());
        assertFalse(e.pfnHidden());
    }

    @Test
    void swappedAndAbsentAreSeen() {
        assertTrue(new PagemapEntry(1L << 62 | 0x1234).swapped());
        assertFalse(new PagemapEntry(1L << 62).present());
        assertFalse(new PagemapEntry(0).present());
    }

    @Test
    void presentWithPfnZeroMeansHidden() {
        assertTrue(new PagemapEntry(1L << 63).pfnHidden());
        assertFalse(new PagemapEntry(0).pfnHidden());
    }

    @Test
    void physicalAddressIsPfnTimesPageSizePlusOffset(@TempDir Path tmp) throws Exception {
        // A fake pagemap file: entry for virtual page 3 holds PFN 0x1234, page 4 is hidden, page 5 absent.
        ByteBuffer file = ByteBuffer.allocate(8 * 6).order(ByteOrder.nativeOrder());
        file.putLong(3 * 8, 1L << 63 | 0x1234);
        file.putLong(4 * 8, 1L << 63);
        Path pagemapFile = tmp.resolve("pagemap");
        Files.write(pagemapFile, file.array());
        try (Pagemap pagemap = Pagemap.open(pagemapFile, 4096)) {
            assertEquals(0x1234L * 4096 + 0x56, pagemap.physicalAddress(3 * 4096 + 0x56));
            LinuxException hidden = assertThrows(LinuxException.class, () -> pagemap.physicalAddress(4 * 4096));
            assertTrue(hidden.getMessage().contains("PFN 0 for a present page"), hidden.getMessage());
            assertTrue(hidden.getMessage().contains("run as root"), hidden.getMessage());
            assertTrue(hidden.getMessage().contains("VFIO with an IOMMU (IOVA mode)"), hidden.getMessage());
            LinuxException absent = assertThrows(LinuxException.class, () -> pagemap.physicalAddress(5 * 4096));
            assertTrue(absent.getMessage().contains("not present"), absent.getMessage());
        }
    }
}
