package io.dmadirect.memory;

/**
 * The {@code long} handle of an allocation. No object exists per allocation; the handle alone finds the
 * frame and the pages, by array index.
 *
 * <pre>
 *  pages:       0 | frame index (31 bits, 62..32) | first page in frame (24 bits, 31..8) | order + 1 (8 bits)
 *  contiguous:  1 | head frame index (31 bits)    | number of frames (32 bits, at least 1)
 * </pre>
 *
 * The low byte {@code order + 1} (or the sign bit) keeps every handle different from
 * {@link PageAllocator#NO_PAGES}, which is 0.
 */
final class Handles {
    static final int MAX_FRAMES = Integer.MAX_VALUE;
    /** Pages per frame must fit the 24-bit page field. */
    static final int MAX_PAGE_SHIFT = 24;

    private Handles() {
    }

    static long pages(int frame, int page, int order) {
        return ((long) frame << 32) | ((long) page << 8) | (order + 1);
    }

    static long contiguous(int headFrame, int frames) {
        return Long.MIN_VALUE | ((long) headFrame << 32) | frames;
    }

    static boolean isContiguous(long handle) {
        return handle < 0;
    }

    static int frame(long handle) {
        return (int) (handle >>> 32) & Integer.MAX_VALUE;
    }

    static int page(long handle) {
        return (int) (handle >>> 8) & 0xff_ffff;
    }

    /** The order of a pages handle; -1 for a handle whose order byte is 0 (garbage). */
    static int order(long handle) {
        return (int) (handle & 0xff) - 1;
    }

    static int frameCount(long handle) {
        return (int) handle;
    }
}
