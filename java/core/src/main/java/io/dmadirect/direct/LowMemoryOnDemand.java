package io.dmadirect.direct;

import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.spi.LowMemoryAttempt;

/**
 * Low memory on demand: when a device's mask needs memory of a low zone the platform holds too little of,
 * ask for it ({@link PageAllocator#growBelow}) before refusing.
 *
 * <p>The kernel never has to: a driver with a 28-bit mask gets ZONE_DMA32 pages below 256 MiB, one with a
 * 24-bit mask ZONE_DMA pages, because the kernel owns those zones whole. A process holds a sample of
 * hugepages, which on a large host all lie above 4 GiB. So when a mask of 32 bits or fewer meets memory
 * it cannot use, the platform obtains some below the device's limit, the way the low-memory reserve does
 * at open, and tries once more. Devices that reach past 4 GiB grow the ordinary way (ZONE_NORMAL).
 */
final class LowMemoryOnDemand {
    /** The end of the kernel's low zones: ZONE_DMA32 ends at 4 GiB. */
    static final long LOW_ZONES_LIMIT = 0xffff_ffffL;

    private LowMemoryOnDemand() {
    }

    /** Whether memory below {@code physLimit} is the low zones' job: a limit at or below 4 GiB. */
    static boolean applies(long physLimit) {
        return physLimit != PageAllocator.NO_LIMIT && Long.compareUnsigned(physLimit, LOW_ZONES_LIMIT) <= 0;
    }

    /**
     * The allocation's second chance: when nothing within the device's low limit was free, obtain
     * {@code size} below it and run the zone fallback again.
     *
     * @return a handle, or {@link PageAllocator#NO_PAGES}; {@code steps} says what was tried
     */
    static long allocAfterObtaining(DirectPlatform platform, DevicePolicy policy, ZoneLayout zones, long size,
            AllocationSteps steps, String device) {
        long physLimit = policy.zoneChoice.physLimit();
        if (!applies(physLimit)) {
            return PageAllocator.NO_PAGES;
        }
        LowMemoryAttempt attempt = platform.obtainBelow(physLimit,
                bytesFor(size, platform.parts.memory().frameSize()), device);
        steps.add("low memory on demand: " + attempt.tried());
        if (attempt.runs().isEmpty()) {
            return PageAllocator.NO_PAGES;
        }
        return DirectPages.alloc(policy, platform.pages(), zones, size, true, steps);
    }

    /** What to ask for: {@code size} in whole frames, at least one. */
    static long bytesFor(long size, long frameSize) {
        long frames = Math.max(1, (size + frameSize - 1) / frameSize);
        return Math.multiplyExact(frames, frameSize);
    }

    /**
     * The remedy of a mask the platform cannot serve, fitting the mask: below 32 bits, the reserve's
     * parameters (for the zone the mask falls in) or IOVA mode; from 32 bits, hugepages below the mask.
     */
    static String remedy(DmaMask mask, ZoneLayout zones) {
        if (mask.bits() >= 32) {
            return "reserve hugepages below " + (mask.bits() == 32 ? "4 GiB" : "the mask")
                    + " (LowMemoryQuota with dma32Bytes and a ballast), or use IOVA mode behind an IOMMU";
        }
        long limit = mask.value();
        if (Long.compareUnsigned(limit, zones.zoneDmaLimit()) <= 0) {
            return "a " + mask.bits() + "-bit device needs ZONE_DMA memory (below " + Sizes.format(limit + 1)
                    + "), which run-time hugepages rarely come from: boot with hugepages=N (boot-time hugepages often "
                    + "lie low) and set LowMemoryQuota dmaBytes, or use IOVA mode (vfio-pci with the IOMMU on), where "
                    + "the IOMMU places memory below any mask";
        }
        return "a " + mask.bits() + "-bit device needs memory below " + Sizes.format(limit + 1)
                + ": allow the low-memory reserve a larger ballast (LowMemoryQuota ballastBytes) or more free "
                + "hugepages to search (searchBytes, boot-time hugepages=N), or use IOVA mode (vfio-pci with the IOMMU "
                + "on), where the IOMMU places memory below any mask";
    }
}
