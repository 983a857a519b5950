package io.dmadirect.linux.headers;

/**
 * {@code <unistd.h>}: sysconf names.
 *
 * @see <a href="https://man7.org/linux/man-pages/man3/sysconf.3.html">sysconf(3)</a>
 */
public final class Unistd {
    public static final int _SC_PAGESIZE = 30;

    private Unistd() {
    }
}
