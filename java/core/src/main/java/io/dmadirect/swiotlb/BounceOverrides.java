package io.dmadirect.swiotlb;

import io.dmadirect.spi.SwiotlbConfig;

/**
 * Process-wide overrides of the bounce pool, for tests and debugging only: the kernel's {@code swiotlb=force}
 * and {@code swiotlb=<size>} boot parameters, which change every device of the machine without a driver
 * change. The fault-injection mode of dmadirect-agent ({@code forceBounce=true}, {@code bounceBytes=<n>})
 * sets them; a test may set them directly and must {@link #reset()} them afterwards.
 *
 * <p>Both are read where the library decides: {@link #forced()} on every streaming map (one volatile read,
 * no other cost when unset), {@link #poolBytes()} once per platform when its bounce pool is made, so a
 * changed size applies to platforms built from then on, as a boot parameter applies from the next boot.
 * Drivers and production code have no reason to touch them: a platform's own bounce settings are
 * {@link SwiotlbConfig}.
 */
public final class BounceOverrides {
    private static volatile boolean force;
    private static volatile long poolBytes;

    private BounceOverrides() {
    }

    /** {@code swiotlb=force} for the whole process: every streaming mapping bounces, whatever the platform's config. */
    public static void setForced(boolean value) {
        force = value;
    }

    /** True when every streaming mapping must bounce ({@link #setForced}). */
    public static boolean forced() {
        return force;
    }

    /**
     * The default bounce pool's size for platforms built from now on, replacing {@link SwiotlbConfig#bytes()}
     * of a platform that has a pool (a platform configured without one keeps none); 0 leaves the size alone.
     */
    public static void setPoolBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("the bounce pool override must not be negative: " + bytes + " bytes");
        }
        poolBytes = bytes;
    }

    /** The size set by {@link #setPoolBytes}, 0 when none. */
    public static long poolBytes() {
        return poolBytes;
    }

    /** Clears both overrides. */
    public static void reset() {
        force = false;
        poolBytes = 0;
    }

    /** The config a new pool is made with: {@code config} with the size override applied. */
    static SwiotlbConfig apply(SwiotlbConfig config) {
        long bytes = poolBytes;
        return bytes > 0 && config.bytes() > 0 ? config.withBytes(bytes) : config;
    }
}
