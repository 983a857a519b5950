package io.dmadirect.linux.pci;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.headers.Errno;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The wait of an interrupt delivered through a non-blocking descriptor: read it, and when it says
 * EAGAIN, sleep briefly and read again until the deadline. The seam has no poll(2); interrupts of a
 * userspace driver are rare enough that a 50 µs nap costs nothing, and the wait is interruptible.
 */
public final class FdInterrupt {
    private static final long NAP_NANOS = 50_000;

    private FdInterrupt() {
    }

    /**
     * Calls {@code read} until it returns without EAGAIN or {@code timeout} passes.
     *
     * @return what {@code read} returned, or 0 on timeout
     */
    public static long await(LongSupplier read, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return read.getAsLong();
            } catch (LinuxException e) {
                if (e.errno() != Errno.EAGAIN) {
                    throw e;
                }
            }
            if (System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted()) {
                return 0;
            }
            LockSupport.parkNanos(NAP_NANOS);
        }
    }
}
