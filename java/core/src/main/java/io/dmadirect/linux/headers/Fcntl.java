package io.dmadirect.linux.headers;

/**
 * {@code <fcntl.h>}: open flags (octal in the header, as here).
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/open.2.html">open(2)</a>
 */
public final class Fcntl {
    public static final int O_RDONLY = 00;
    public static final int O_WRONLY = 01;
    public static final int O_RDWR = 02;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NONBLOCK = 04000;
    public static final int O_SYNC = 04010000;
    public static final int O_CLOEXEC = 02000000;

    private Fcntl() {
    }
}
