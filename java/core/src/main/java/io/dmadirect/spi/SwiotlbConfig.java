package io.dmadirect.spi;

import io.dmadirect.Sizes;

/**
 * How the bounce pool is set up: the kernel's {@code swiotlb=} boot parameter and
 * {@code CONFIG_SWIOTLB_DYNAMIC}.
 *
 * @param bytes           the default pool's size, rounded up to whole 256 KiB segments; 0 for no pool.
 *                        The kernel's default is 64 MiB ({@code IO_TLB_DEFAULT_SIZE})
 * @param areas           areas, each with its own lock; 0 for one per CPU as the kernel does. Rounded
 *                        down so that every area holds whole segments
 * @param force           {@code swiotlb=force}: every streaming mapping bounces
 *                        ({@code is_swiotlb_force_bounce})
 * @param dynamicMaxBytes the most memory that extra pools may take on demand, when the default pool has
 *                        no room or lies beyond a device's reach ({@code SWIOTLB_DYNAMIC}); 0 for none, the
 *                        kernel's default. Extra pools are kept until the platform closes
 */
public record SwiotlbConfig(long bytes, int areas, boolean force, long dynamicMaxBytes) {
    /** The kernel's default pool size. */
    public static final long DEFAULT_BYTES = 64 * Sizes.MiB;
    public static final long PROCESS_DEFAULT_BYTES = 8 * Sizes.MiB;

    public SwiotlbConfig {
        if (bytes < 0 || areas < 0 || dynamicMaxBytes < 0) {
            throw new IllegalArgumentException("swiotlb sizes and area count must not be negative: " + bytes + " bytes, "
                    + areas + " areas, " + dynamicMaxBytes + " dynamic bytes");
        }
    }

    /** 64 MiB, one area per CPU, no forced bounce, no extra pools: the kernel's defaults. */
    public static SwiotlbConfig defaults() {
        return new SwiotlbConfig(DEFAULT_BYTES, 0, false, 0);
    }

    /**
     * 8 MiB, otherwise as {@link #defaults()}: the size for a process. The kernel sizes its pool for a
     * whole machine; a process holds a sample of hugepages (64 MiB by default), and a 64 MiB pool, taken
     * from the lowest memory first, would leave coherent allocations nothing below 4 GiB.
     */
    public static SwiotlbConfig processDefaults() {
        return defaults().withBytes(PROCESS_DEFAULT_BYTES);
    }

    /** No bounce pool at all: a mapping the device cannot reach fails. */
    public static SwiotlbConfig none() {
        return new SwiotlbConfig(0, 0, false, 0);
    }

    public SwiotlbConfig withBytes(long value) {
        return new SwiotlbConfig(value, areas, force, dynamicMaxBytes);
    }

    public SwiotlbConfig withAreas(int value) {
        return new SwiotlbConfig(bytes, value, force, dynamicMaxBytes);
    }

    public SwiotlbConfig withForce(boolean value) {
        return new SwiotlbConfig(bytes, areas, value, dynamicMaxBytes);
    }

    public SwiotlbConfig withDynamicMax(long value) {
        return new SwiotlbConfig(bytes, areas, force, value);
    }
}
