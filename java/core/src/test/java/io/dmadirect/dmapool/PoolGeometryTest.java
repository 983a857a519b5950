package io.dmadirect.dmapool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code dma_pool_create()}'s roundings and refusals, and {@code pool_initialise_page()}'s carving, row by row. */
class PoolGeometryTest {

    @ParameterizedTest(name = "size {0} align {1} boundary {2} -> block {3}, page {4}, boundary {5}, {6} blocks")
    @CsvSource({
        // size, align, boundary -> block size, allocation, boundary, blocks per page
        "1,     0,    0,     16,   4096,  4096,  256",  // below sizeof(struct dma_block): raised to 16
        "4,     8,    0,     16,   4096,  4096,  256",
        "16,    0,    0,     16,   4096,  4096,  256",
        "24,    0,    0,     24,   4096,  4096,  170",  // 4096 / 24, the tail unused
        "24,    0,    64,    24,   4096,  64,    128",  // two per 64-byte segment, none across
        "24,    32,   0,     32,   4096,  4096,  128",  // rounded up to the alignment
        "64,    64,   0,     64,   4096,  4096,  64",
        "100,   0,    128,   100,  4096,  128,   32",    // one per 128-byte segment
        "512,   512,  4096,  512,  4096,  4096,  8",
        "512,   0,    8192,  512,  4096,  4096,  8",    // boundary capped at the page
        "3000,  0,    0,     3000, 4096,  4096,  1",
        "3000,  0,    4096,  3000, 4096,  4096,  1",
        "4096,  4096, 4096,  4096, 4096,  4096,  1",    // NVMe's PRP list page pool
        "6000,  0,    0,     6000, 6000,  6000,  1",    // a page is the block when larger than PAGE_SIZE
        "8192,  0,    0,     8192, 8192,  8192,  1",
        "256,   256,  256,   256,  4096,  256,   16",   // NVMe's small PRP pool
        "33,    1,    64,    33,   4096,  64,    64",
    })
    void createRoundsAndCarvesAsTheKernel(long size, long align, long boundary, int block, int allocation,
            int capped, int blocks) {
        PoolGeometry g = PoolGeometry.of(size, align, boundary);
        assertEquals(block, g.size(), "block size");
        assertEquals(allocation, g.allocation(), "allocation");
        assertEquals(capped, g.boundary(), "boundary");
        assertEquals(blocks, g.blocksPerPage(), "blocks per page");
        for (int i = 0; i < g.blocksPerPage(); i++) {
            int offset = g.offsetOf(i);
            assertEquals(0, offset % Math.max(1, align), "block " + i + " aligned");
            assertEquals(offset / g.boundary(), (offset + g.size() - 1) / g.boundary(), "block " + i + " crosses");
            assertTrue(offset + g.size() <= g.allocation(), "block " + i + " inside the page");
            if (i > 0) {
                assertTrue(offset >= g.offsetOf(i - 1) + g.size(), "block " + i + " overlaps its predecessor");
            }
        }
    }

    @ParameterizedTest(name = "size {0} align {1} boundary {2} refused: {3}")
    @CsvSource(delimiter = '|', value = {
        "0          | 0  | 0   | block size 0",
        "-1         | 0  | 0   | block size -1",
        "2147483648 | 0  | 0   | must be 1 to",
        "64         | 3  | 0   | alignment 3 is not a power of two",
        "64         | -8 | 0   | alignment -8",
        "64         | 0  | 96  | boundary 96 must be a power of two",
        "64         | 0  | 32  | boundary 32 must be a power of two no smaller than the block size 64",
        "20         | 32 | 16  | no smaller than the block size 32",
    })
    void createRefusesWhatTheKernelRefuses(long size, long align, long boundary, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PoolGeometry.of(size, align, boundary));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** The constant-time reverse of the carving finds every block, and nothing where no block starts. */
    @ParameterizedTest(name = "size {0} boundary {1}")
    @CsvSource({"16, 0", "24, 0", "24, 64", "100, 128", "33, 64", "512, 4096", "3000, 0", "6000, 0", "256, 256"})
    void indexAtIsTheInverseOfTheCarving(long size, long boundary) {
        PoolGeometry g = PoolGeometry.of(size, 0, boundary);
        Map<Integer, Integer> starts = new HashMap<>();
        for (int i = 0; i < g.blocksPerPage(); i++) {
            starts.put(g.offsetOf(i), i);
        }
        for (int offset = -1; offset <= g.allocation(); offset++) {
            assertEquals(starts.getOrDefault(offset, -1), g.indexAt(offset), "offset " + offset);
        }
    }
}
