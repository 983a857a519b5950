package io.dmadirect.iova;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.Sizes;
import io.dmadirect.spi.IommuDomain;
import io.dmadirect.spi.MemoryRun;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The IOMMU mappings of live allocations when {@link IovaMemory} unmaps at free (the debug option
 * {@code iommuUnmapOnFree}): each allocation is mapped on its own when it is handed out and unmapped when it is
 * freed, so a device that still uses freed memory faults in the IOMMU instead of writing into whatever is
 * allocated there next. This is the spirit of the kernel's {@code IOMMU_DEBUG_PAGEALLOC}, which checks at page
 * free that the IOMMU no longer maps the page; here the unmapping itself makes the late access visible.
 *
 * <p>Neither VFIO type1 v2 nor iommufd unmaps part of a mapping, so a mapping is exactly one allocation (split
 * only where the allocation crosses from one {@link IovaRun} to the next, whose CPU memory may lie elsewhere), and
 * its free unmaps exactly those pieces. Not thread-safe: {@link IovaMemory} calls it under its lock.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/iommu/iommu-debug-pagealloc.c">iommu_debug_check_unmapped</a>
 */
final class AllocationMappings {
    private final IommuDomain iommu;
    /** Live pieces: IOVA to size. */
    private final TreeMap<Long, Long> pieces = new TreeMap<>();

    AllocationMappings(IommuDomain iommu) {
        this.iommu = iommu;
    }

    /**
     * Maps {@code [iova, iova + size)}, which must lie in {@code runs}, at the CPU memory behind it.
     *
     * @throws DmaAllocationException when the IOMMU refuses (typically its mapping limit: every live allocation is
     *         a mapping of its own in this mode); nothing stays mapped then
     */
    void map(long iova, long size, List<MemoryRun> runs) {
        long end = Math.addExact(iova, size);
        int before = pieces.size();
        try {
            for (long at = iova; at < end; ) {
                MemoryRun run = runAt(at, runs);
                long piece = Math.min(end, run.frameBase() + run.size()) - at;
                iommu.map(at, run.cpuAddress() + (at - run.frameBase()), piece);
                pieces.put(at, piece);
                at += piece;
            }
        } catch (RuntimeException e) {
            RuntimeException undo = unmap(iova, size);
            if (undo != null) {
                e.addSuppressed(undo);
            }
            DmaAllocationException failure = new DmaAllocationException("failed to map " + Sizes.format(size)
                    + " at IOVA " + Sizes.hex(iova) + " through " + iommu.name() + " for iommuUnmapOnFree, which maps "
                    + "every live allocation on its own (" + before + " live now, the IOMMU allows "
                    + availableText() + " more): " + e.getMessage() + "; free buffers, raise vfio_iommu_type1's "
                    + "dma_entry_limit, or turn iommuUnmapOnFree off");
            failure.initCause(e);
            throw failure;
        }
    }

    /** Unmaps the pieces of {@code [iova, iova + size)}; returns the first failure (later ones suppressed in it). */
    RuntimeException unmap(long iova, long size) {
        Map<Long, Long> inside = pieces.subMap(iova, true, iova + size, false);
        RuntimeException first = null;
        for (var it = inside.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Long> piece = it.next();
            // Read before remove: TreeMap may reuse the removed node's entry for its successor.
            long at = piece.getKey();
            long bytes = piece.getValue();
            it.remove(); // gone from our books even if the IOMMU refused: close must not unmap it twice
            try {
                iommu.unmap(at, bytes);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        return first;
    }

    /** Unmaps every live piece (close); returns the first failure. */
    RuntimeException unmapAll() {
        return pieces.isEmpty() ? null : unmap(pieces.firstKey(), pieces.lastKey() + pieces.lastEntry().getValue()
                - pieces.firstKey());
    }

    /** Whether {@code iova} lies in a live mapping. */
    boolean isMapped(long iova) {
        Map.Entry<Long, Long> e = pieces.floorEntry(iova);
        return e != null && iova - e.getKey() < e.getValue();
    }

    int count() {
        return pieces.size();
    }

    private String availableText() {
        try {
            long n = iommu.mappingsAvailable();
            return n == Long.MAX_VALUE ? "unlimited" : Long.toString(n);
        } catch (RuntimeException e) {
            return "an unknown number of";
        }
    }

    private static MemoryRun runAt(long iova, List<MemoryRun> runs) {
        for (MemoryRun r : runs) {
            if (iova - r.frameBase() >= 0 && iova - r.frameBase() < r.size()) {
                return r;
            }
        }
        throw new IllegalStateException("failed to map IOVA " + Sizes.hex(iova) + " for iommuUnmapOnFree: it lies in "
                + "no run of this memory (not an allocation of it)");
    }
}
