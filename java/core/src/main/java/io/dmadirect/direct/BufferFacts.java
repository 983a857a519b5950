package io.dmadirect.direct;

import io.dmadirect.AllocationPath;
import io.dmadirect.DmaDirection;
import io.dmadirect.Zone;

/**
 * The small, fixed facts of a {@link CoherentBuffer} packed into one {@code int}, so that the buffer, the one
 * object an allocation makes, stays at 48 bytes.
 *
 * <pre>
 *  bits 0-1   backing: {@link #PAGES}, {@link #POOL} or {@link #SWIOTLB}
 *  bits 2-3   zone the memory came from (ordinal)
 *  bits 4-5   optimal zone of the device's mask (ordinal)
 *  bits 6-7   {@link AllocationPath} (ordinal)
 *  bit  8     CPU-mapped (not NO_KERNEL_MAPPING)
 *  bit  9     decrypted with dma_set_decrypted()
 *  bit  10    fell back: the device keeps the steps
 *  bits 11-13 pages direction: 0 for a coherent buffer, else the {@link DmaDirection} ordinal + 1
 * </pre>
 */
final class BufferFacts {
    static final int PAGES = 0;
    static final int POOL = 1;
    static final int SWIOTLB = 2;

    private static final Zone[] ZONES = Zone.values();
    private static final AllocationPath[] PATHS = AllocationPath.values();
    private static final DmaDirection[] DIRECTIONS = DmaDirection.values();
    private static final int CPU_MAPPED = 1 << 8;
    private static final int DECRYPTED = 1 << 9;
    private static final int HAS_STEPS = 1 << 10;

    static {
        // Two bits each: a new zone or path needs a wider layout, and must fail here rather than alias.
        if (ZONES.length > 4 || PATHS.length > 4 || DIRECTIONS.length > 7) {
            throw new ExceptionInInitializerError("BufferFacts: a zone, path or direction no longer fits its bits");
        }
    }

    private BufferFacts() {
    }

    static int of(int backing, Zone zone, Zone optimalZone, AllocationPath path, boolean cpuMapped,
            boolean decrypted, boolean hasSteps, DmaDirection pagesDirection) {
        return backing | zone.ordinal() << 2 | optimalZone.ordinal() << 4 | path.ordinal() << 6
                | (cpuMapped ? CPU_MAPPED : 0) | (decrypted ? DECRYPTED : 0) | (hasSteps ? HAS_STEPS : 0)
                | (pagesDirection == null ? 0 : pagesDirection.ordinal() + 1) << 11;
    }

    static int backing(int facts) {
        return facts & 3;
    }

    static Zone zone(int facts) {
        return ZONES[facts >>> 2 & 3];
    }

    static Zone optimalZone(int facts) {
        return ZONES[facts >>> 4 & 3];
    }

    static AllocationPath path(int facts) {
        return PATHS[facts >>> 6 & 3];
    }

    static boolean cpuMapped(int facts) {
        return (facts & CPU_MAPPED) != 0;
    }

    static boolean decrypted(int facts) {
        return (facts & DECRYPTED) != 0;
    }

    static boolean hasSteps(int facts) {
        return (facts & HAS_STEPS) != 0;
    }

    static DmaDirection pagesDirection(int facts) {
        int d = facts >>> 11 & 7;
        return d == 0 ? null : DIRECTIONS[d - 1];
    }
}
