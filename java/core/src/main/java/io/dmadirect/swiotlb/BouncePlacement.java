package io.dmadirect.swiotlb;

import io.dmadirect.spi.SwiotlbConfig;

/**
 * Where the default bounce pool goes, and how much of it: the kernel's placement, scaled to the memory a
 * process holds.
 *
 * <p>The kernel takes its default pool from low memory ({@code memblock_alloc_low()} in
 * {@code swiotlb_init_remap()}), halving it until it fits, and never lets it reach past 4 GiB unless told
 * to ({@code SWIOTLB_ANY}): a pool serves a device only when it lies wholly within the device's reach. Its
 * 64 MiB is about 2% of a machine's 3 GiB below 4 GiB. A process holds only a sample: below 4 GiB, often
 * just what its low-memory reserve obtained for its 32-bit drivers' coherent buffers. So the low pool
 * takes at most {@link #LOW_SHARE_DIVISOR a quarter} of the low memory held, and the rest of the configured
 * size goes wholly above 4 GiB, where it serves the devices that reach it (every device bounces heap
 * arrays in a process, which the kernel never does). No part straddles 4 GiB.
 *
 * @param lowBytes  taken wholly below 4 GiB, whole segments; 0 for no low pool
 * @param highBytes taken wholly above 4 GiB, whole segments; 0 for no high pool
 */
record BouncePlacement(long lowBytes, long highBytes) {
    /** The low pool takes at most 1/4 of the memory held below 4 GiB: the rest is for coherent buffers. */
    public static final int LOW_SHARE_DIVISOR = 4;

    /**
     * @param bytes     the configured size ({@link SwiotlbConfig#bytes()})
     * @param lowHeld   memory held below 4 GiB (ZONE_DMA and ZONE_DMA32)
     * @param highHeld  memory held above 4 GiB (ZONE_NORMAL)
     */
    public static BouncePlacement of(long bytes, long lowHeld, long highHeld) {
        long wanted = Swiotlb.alignUp(bytes, Swiotlb.SEGMENT_BYTES);
        if (highHeld == 0) {
            // Everything held is low: the kernel's placement, whole.
            return new BouncePlacement(wanted, 0);
        }
        long lowShare = lowHeld / LOW_SHARE_DIVISOR / Swiotlb.SEGMENT_BYTES * Swiotlb.SEGMENT_BYTES;
        long low = Math.min(wanted, lowShare);
        return new BouncePlacement(low, wanted - low);
    }
}
