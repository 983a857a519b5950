package io.dmadirect.linux.headers;

/**
 * {@code <sys/eventfd.h>}: eventfd flags. Interrupts from VFIO arrive as eventfd counts.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/eventfd.2.html">eventfd(2)</a>
 */
public final class Eventfd {
    public static final int EFD_SEMAPHORE = 00000001;
    public static final int EFD_NONBLOCK = 00004000;
    public static final int EFD_CLOEXEC = 02000000;

    private Eventfd() {
    }
}
