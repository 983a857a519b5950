package io.dmadirect.iova;

import io.dmadirect.Addresses;
import io.dmadirect.spi.IovaRange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Table-driven: the IOVA allocator honours the limit (min(mask, bus limit)), the valid ranges and reuse. */
class IovaAllocatorTest {
    private static final long MiB = 1L << 20;
    /** The rig's intel-iommu: 39 bits, without the interrupt window. */
    private static final List<IovaRange> INTEL = List.of(new IovaRange(0, 0xfedf_ffffL),
            new IovaRange(0xfef0_0000L, (1L << 39) - 1));

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // case, floor, size, align, min, limit, expected (-1: none)
        "first fit above the floor,     0x400000, 0x200000, 0x200000, 0,          0xffffffff,        0x400000",
        "min respected,                 0x400000, 0x200000, 0x200000, 0x1000000,  0xffffffff,        0x1000000",
        "28-bit limit fits,             0x400000, 0x1000,   0x1000,   0xfffe000,  0xfffffff,         0xfffe000",
        "28-bit limit too small,        0x400000, 0x4000,   0x1000,   0xfffe000,  0xfffffff,         -1",
        "skips the interrupt window,    0,        0x100000, 0x100000, 0xfed80000, 0xffffffffff,      0xfef00000",
        "aligned past the window,       0,        0x200000, 0x200000, 0xfed00000, 0xffffffffff,      0xff000000",
        "window then high,              0,        0x400000, 0x400000, 0xfec00000, 0xffffffffff,      0xff000000",
        "above 39 bits impossible,      0,        0x1000,   0x1000,   0x8000000000, 0x7fffffffffffffff, -1",
        "alignment rounds up,           0x1000,   0x1000,   0x10000,  0,          0xffffffff,        0x10000",
        "limit below floor,             0x400000, 0x1000,   0x1000,   0,          0x3fffff,          -1",
    })
    void places(String name, String floor, String size, String align, String min, String limit, String expected) {
        IovaAllocator a = new IovaAllocator(INTEL, Long.decode(floor));
        assertEquals(Long.decode(expected), a.allocate(Long.decode(size), Long.decode(align), Long.decode(min),
                Long.decode(limit)), name);
    }

    @Test
    void reusesFreedIovaAndMergesNeighbours() {
        IovaAllocator a = new IovaAllocator(List.of(new IovaRange(0, 64 * MiB - 1)), 0);
        long x = a.allocate(2 * MiB, 2 * MiB, -1 >>> 1);
        long y = a.allocate(2 * MiB, 2 * MiB, -1 >>> 1);
        long z = a.allocate(2 * MiB, 2 * MiB, -1 >>> 1);
        assertEquals(List.of(0L, 2 * MiB, 4 * MiB), List.of(x, y, z));
        a.free(y, 2 * MiB);
        assertEquals(y, a.allocate(1 * MiB, 1 * MiB, -1 >>> 1), "freed space is used again, lowest first");
        a.free(x, 2 * MiB);
        a.free(z, 2 * MiB);
        a.free(y, 1 * MiB);
        assertEquals(List.of(new IovaRange(0, 64 * MiB - 1)), a.freeRanges(), "everything merged back");
        assertEquals(64 * MiB, a.freeBytes());
    }

    @Test
    void exhaustsAndRecovers() {
        IovaAllocator a = new IovaAllocator(List.of(new IovaRange(0x1000, 0x4fff)), 0);
        assertEquals(0x1000, a.allocate(0x4000, 0x1000, Long.MAX_VALUE));
        assertEquals(Addresses.NONE, a.allocate(0x1000, 0x1000, Long.MAX_VALUE));
        assertTrue(a.isAllocated(0x4fff));
        a.free(0x1000, 0x4000);
        assertFalse(a.isAllocated(0x1000));
        assertEquals(0x1000, a.allocate(0x1000, 0x1000, Long.MAX_VALUE));
    }

    @Test
    void overlappingAndUnsortedRangesAreJoined() {
        IovaAllocator a = new IovaAllocator(List.of(new IovaRange(0x8000, 0xffff), new IovaRange(0, 0x8fff)), 0);
        assertEquals(List.of(new IovaRange(0, 0xffff)), a.freeRanges());
        assertEquals(0, a.allocate(0x10000, 0x1000, Long.MAX_VALUE));
    }

    @Test
    void fullRangeAtTheTopDoesNotOverflow() {
        IovaAllocator a = new IovaAllocator(List.of(IovaRange.ofUnsigned(0, -1L)), 0x1000);
        long top = a.allocate(0x1000, 0x1000, Long.MAX_VALUE - 0xfff, Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE - 0xfff, top);
        a.free(top, 0x1000);
        assertEquals(Long.MAX_VALUE - 0xfff, a.freeBytes());
    }

    @ParameterizedTest(name = "bad request size={0} align={1} min={2} limit={3}")
    @CsvSource({"0, 4096, 0, 1000000", "-1, 4096, 0, 1000000", "4096, 0, 0, 1000000", "4096, 3000, 0, 1000000",
            "4096, 4096, -1, 1000000", "4096, 4096, 0, -5"})
    void badRequestsAreRejected(long size, long align, long min, long limit) {
        IovaAllocator a = new IovaAllocator(INTEL, 0x1000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.allocate(size, align, min, limit));
        assertTrue(e.getMessage().startsWith("failed to allocate IOVA"), e.getMessage());
    }

    @Test
    void badSetupAndBadFreeAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new IovaAllocator(List.of(), 0));
        assertThrows(IllegalArgumentException.class, () -> new IovaAllocator(INTEL, -1));
        assertThrows(IllegalArgumentException.class, () -> new IovaRange(5, 4));
        assertThrows(IllegalArgumentException.class, () -> new IovaRange(-1, 4));
        IovaAllocator a = new IovaAllocator(INTEL, 0x1000);
        long x = a.allocate(0x2000, 0x1000, Long.MAX_VALUE);
        assertThrows(IllegalStateException.class, () -> a.free(x, 0x1000), "wrong size");
        assertThrows(IllegalStateException.class, () -> a.free(x + 0x1000, 0x1000), "not a start");
        a.free(x, 0x2000);
        assertThrows(IllegalStateException.class, () -> a.free(x, 0x2000), "double free");
    }
}
