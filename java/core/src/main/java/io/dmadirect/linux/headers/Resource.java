package io.dmadirect.linux.headers;

/**
 * {@code <sys/resource.h>}: resource limits.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/getrlimit.2.html">getrlimit(2)</a>
 */
public final class Resource {
    public static final int RLIMIT_MEMLOCK = 8;
    /** {@code RLIM_INFINITY}: all ones as an unsigned 64-bit value. */
    public static final long RLIM_INFINITY = -1L;

    private Resource() {
    }
}
