package io.dmadirect.linux.headers;

/**
 * {@code <linux/falloc.h>}: fallocate modes. Punching a hole in a hugetlb file gives its pages back
 * to the hugepage pool, which is how single pages of a segment are released.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/fallocate.2.html">fallocate(2)</a>
 */
public final class Falloc {
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;

    private Falloc() {
    }
}
