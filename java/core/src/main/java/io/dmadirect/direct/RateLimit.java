package io.dmadirect.direct;

/**
 * The kernel's {@code ratelimit_state}: at most {@code burst} messages per {@code interval}, so that a driver
 * failing in a loop does not flood the log ({@code dev_warn_ratelimited()}, {@code warn_alloc()}'s limit).
 */
final class RateLimit {
    private final int burst;
    private final long intervalNanos;
    private long windowStart = System.nanoTime();
    private int printed;

    RateLimit(int burst, long intervalNanos) {
        this.burst = burst;
        this.intervalNanos = intervalNanos;
    }

    synchronized boolean allow() {
        long now = System.nanoTime();
        if (now - windowStart >= intervalNanos) {
            windowStart = now;
            printed = 0;
        }
        return printed++ < burst;
    }
}
