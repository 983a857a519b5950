package io.dmadirect.linux.hugepages;

import static io.dmadirect.Addresses.NONE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The fast translation: segments in any order, holes for released pages, addresses outside. */
class AddressTableTest {
    private static final long PAGE = 2L << 20;

    @Test
    void looksUpEveryPageOfEverySegmentWithTheOffsetKept() {
        AddressTable table = AddressTable.EMPTY
                .with(0x7f00_0000_0000L, PAGE, new long[] {0x1_0000_0000L, 0x20_0000L})
                .with(0x7e00_0000_0000L, PAGE, new long[] {0x4000_0000L});
        assertEquals(0x1_0000_0000L, table.physAddress(0x7f00_0000_0000L));
        assertEquals(0x1_0000_0000L + PAGE - 1, table.physAddress(0x7f00_0000_0000L + PAGE - 1));
        assertEquals(0x20_0000L + 5, table.physAddress(0x7f00_0000_0000L + PAGE + 5));
        assertEquals(0x4000_0000L + 77, table.physAddress(0x7e00_0000_0000L + 77));
    }

    @Test
    void addressesNotHeldHaveNoAddress() {
        AddressTable table = AddressTable.EMPTY.with(0x7f00_0000_0000L, PAGE, new long[] {NONE, 0x20_0000L});
        assertEquals(NONE, table.physAddress(0x7f00_0000_0000L + 1), "a released page");
        assertEquals(NONE, table.physAddress(0x7f00_0000_0000L - 1), "just below");
        assertEquals(NONE, table.physAddress(0x7f00_0000_0000L + 2 * PAGE), "just past the end");
        assertEquals(NONE, table.physAddress(0), "null");
        assertEquals(NONE, table.physAddress(-1L), "the top of the address space");
        assertEquals(NONE, AddressTable.EMPTY.physAddress(0x7f00_0000_0000L));
    }
}
