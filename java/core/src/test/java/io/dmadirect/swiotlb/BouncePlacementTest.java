package io.dmadirect.swiotlb;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Where the default bounce pool goes: below 4 GiB, as the kernel's {@code memblock_alloc_low()}, at most a
 * quarter of the low memory held, the rest wholly above 4 GiB; never both in one part.
 */
class BouncePlacementTest {

    @ParameterizedTest(name = "{0} pool, {1} held low, {2} held high -> {3} low + {4} high")
    @CsvSource({
            // the fresh host of issue 14: 8 MiB below 4 GiB, 32 MiB above
            "8388608,   8388608,    33554432,   2097152,  6291456",
            // everything held is low: the kernel's placement, whole
            "8388608,   134217728,  0,          8388608,  0",
            "4194304,   16777216,   0,          4194304,  0",
            // plenty low: all of it low
            "8388608,   1073741824, 1073741824, 8388608,  0",
            // nothing low: all of it high, none of it takes DMA32
            "8388608,   0,          100663296,  0,        8388608",
            // less than a segment's quarter: no low part
            "8388608,   786432,     100663296,  0,        8388608",
            // sizes round up to whole 256 KiB segments
            "100000,    0,          100663296,  0,        262144",
    })
    void lowAtMostAQuarterOfTheLowMemoryHeldTheRestHigh(long bytes, long lowHeld, long highHeld, long low, long high) {
        BouncePlacement placement = BouncePlacement.of(bytes, lowHeld, highHeld);
        assertEquals(new BouncePlacement(low, high), placement);
        assertEquals(0, placement.lowBytes() % (256 * KiB));
    }

    @ParameterizedTest
    @CsvSource({"0, 1073741824, 1073741824", "67108864, 4294967296, 17179869184"})
    void theWholeSizeIsPlacedSomewhere(long bytes, long lowHeld, long highHeld) {
        BouncePlacement placement = BouncePlacement.of(bytes, lowHeld, highHeld);
        assertEquals(Swiotlb.alignUp(bytes, Swiotlb.SEGMENT_BYTES), placement.lowBytes() + placement.highBytes());
        assertEquals(bytes == 0 ? 0 : 64 * MiB, placement.lowBytes(), "a machine's worth of low memory: all low");
    }
}
