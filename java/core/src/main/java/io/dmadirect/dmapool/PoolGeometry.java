package io.dmadirect.dmapool;

import io.dmadirect.Sizes;
import java.util.Arrays;

/**
 * The shape of a pool, fixed at creation: the block size, the page ({@code allocation}) and the boundary,
 * by {@code dma_pool_create()}'s rules, and where the blocks of a page lie, by
 * {@code pool_initialise_page()}'s carving. Every page of a pool is carved the same, so the offsets are
 * computed once and a block is named by its page and its index here.
 *
 * <p>The rules, in the kernel's order: an alignment of 0 means 1 and must otherwise be a power of two; the
 * size must be 1 to {@code INT_MAX}, is raised to 16 bytes ({@code sizeof(struct dma_block)}) and rounded up
 * to the alignment; a page is the block size, at least {@code PAGE_SIZE}; a boundary of 0 means the page's
 * size, and must otherwise be a power of two no smaller than the block; it is then capped at the page's size.
 * Blocks are laid from offset 0, one after another, and a block that would cross the next boundary starts at
 * that boundary instead.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">dma_pool_create_node</a>
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">pool_initialise_page</a>
 */
public final class PoolGeometry {
    /** The kernel's {@code PAGE_SIZE} on x86. */
    public static final int PAGE_SIZE = 4096;
    /** {@code sizeof(struct dma_block)} on a 64-bit kernel: the smallest block. */
    public static final int MIN_BLOCK = 16;

    private final int size;
    private final int allocation;
    private final int boundary;
    private final int[] offsets;
    private final int blocksPerSegment;

    private PoolGeometry(int size, int allocation, int boundary) {
        this.size = size;
        this.allocation = allocation;
        this.boundary = boundary;
        this.offsets = carve(size, allocation, boundary);
        this.blocksPerSegment = boundary / size;
    }

    /**
     * {@code dma_pool_create()}'s checks and roundings; where the kernel returns NULL, this throws.
     *
     * @param size     bytes of each block asked for
     * @param align    0, or a power of two
     * @param boundary 0, or a power of two at least the (rounded) size
     * @return the geometry
     * @throws IllegalArgumentException naming the argument that the kernel would refuse
     */
    public static PoolGeometry of(long size, long align, long boundary) {
        if (align < 0 || (align != 0 && Long.bitCount(align) != 1)) {
            throw new IllegalArgumentException("DMA pool alignment " + align + " is not a power of two (or 0 for none)");
        }
        if (size <= 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("DMA pool block size " + size + " must be 1 to " + Integer.MAX_VALUE);
        }
        long a = align == 0 ? 1 : align;
        long rounded = alignUp(Math.max(size, MIN_BLOCK), a);
        if (rounded > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("DMA pool block size " + size + " aligned to " + a + " exceeds "
                    + Integer.MAX_VALUE);
        }
        long allocation = Math.max(rounded, PAGE_SIZE);
        long b;
        if (boundary == 0) {
            b = allocation;
        } else if (boundary < rounded || Long.bitCount(boundary) != 1) {
            throw new IllegalArgumentException("DMA pool boundary " + boundary + " must be a power of two no smaller "
                    + "than the block size " + rounded + " (or 0 for none)");
        } else {
            b = Math.min(boundary, allocation);
        }
        return new PoolGeometry((int) rounded, (int) allocation, (int) b);
    }

    private static long alignUp(long value, long align) {
        return (value + align - 1) & -align;
    }

    /** {@code pool_initialise_page()}'s walk: the offset of each block of a page, in the order it is carved. */
    private static int[] carve(int size, int allocation, int boundary) {
        int[] found = new int[allocation / size];
        int count = 0;
        long offset = 0;
        long nextBoundary = boundary;
        while (offset + size <= allocation) {
            if (offset + size > nextBoundary) {
                offset = nextBoundary;
                nextBoundary += boundary;
                continue;
            }
            found[count++] = (int) offset;
            offset += size;
        }
        return Arrays.copyOf(found, count);
    }

    /** {@return the block size} */
    public int size() {
        return size;
    }

    /** {@return the bytes of each page} */
    public int allocation() {
        return allocation;
    }

    /** {@return the boundary no block crosses} */
    public int boundary() {
        return boundary;
    }

    /** {@return how many blocks each page holds} */
    public int blocksPerPage() {
        return offsets.length;
    }

    /**
     * {@return the offset in its page of the block at {@code index}}
     *
     * @param index 0 to {@link #blocksPerPage()} - 1
     */
    public int offsetOf(int index) {
        return offsets[index];
    }

    /**
     * The index of the block that starts at {@code offset} in its page, in constant time: blocks lie at whole
     * multiples of the size within each boundary segment, {@code boundary / size} of them per segment.
     *
     * @param offset bytes from the page's start
     * @return the index, or -1 when no block starts there (outside the page, inside a block, or in the unused
     *         tail of a boundary segment)
     */
    public int indexAt(long offset) {
        if (offset < 0 || offset >= allocation) {
            return -1;
        }
        long segment = offset / boundary;
        long within = offset - segment * boundary;
        if (within % size != 0) {
            return -1;
        }
        long slot = within / size;
        if (slot >= blocksPerSegment) {
            return -1;
        }
        long index = segment * blocksPerSegment + slot;
        return index < offsets.length && offsets[(int) index] == offset ? (int) index : -1;
    }

    @Override
    public String toString() {
        return "blocks of " + size + " B, " + offsets.length + " per " + Sizes.format(allocation) + " page, boundary "
                + Sizes.format(boundary);
    }
}
