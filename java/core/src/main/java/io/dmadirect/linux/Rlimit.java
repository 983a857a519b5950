package io.dmadirect.linux;

import io.dmadirect.linux.headers.Resource;

/**
 * {@code struct rlimit}: the soft limit that applies and the hard limit it may be raised to. Values are
 * unsigned; {@link Resource#RLIM_INFINITY} means no limit.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/getrlimit.2.html">getrlimit(2)</a>
 */
public record Rlimit(long soft, long hard) {

    /** Whether the soft limit allows {@code bytes}. */
    public boolean allows(long bytes) {
        return soft == Resource.RLIM_INFINITY || Long.compareUnsigned(bytes, soft) <= 0;
    }
}
