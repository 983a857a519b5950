package io.dmadirect.agent;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;

/**
 * The finding of {@code add_dma_entry()} when {@link ActiveCacheLines} says a line is taken, with the kernel's
 * exceptions: the new mapping asked for {@code SKIP_CPU_SYNC} (the driver shares the memory on purpose and
 * syncs it itself: page_pool's idiom), {@code DEBUGGING_IGNORE_CACHELINES} or {@code REQUIRE_COHERENT} (see
 * {@link #sharingDeclared}), or the device's cache alignment is below a line (coherent: no line is
 * written back over the device's data). Where the two mappings share a line but no byte, a bounced mapping
 * is exempt as well, as the kernel exempts swiotlb with {@code DMA_BOUNCE_UNALIGNED_KMALLOC}: the device
 * writes the bounce slot, not the shared line. Two live device-writable mappings of the same bytes are
 * reported whatever the platform: two transfers write the same memory.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/debug.c">add_dma_entry</a>
 */
final class OverlapCheck {
    private final ActiveCacheLines lines = new ActiveCacheLines();
    private final Findings findings;

    OverlapCheck(Findings findings) {
        this.findings = findings;
    }

    /** What the finding says of a mapping: the agent's entry describes itself. */
    interface Described {
        String describe();

        String mapSite();

        boolean bounced();
    }

    /**
     * Indexes a new mapping of {@code [start, start + size)} of {@code base} (null: CPU memory) and reports an
     * overlap; the span to {@link #remove} at unmap, or null when not indexed.
     */
    ActiveCacheLines.Span add(Object device, Object base, long start, long size, Object direction, int attrs,
            Described owner, int site) {
        if (start < 0 || size <= 0 || direction == DmaDirection.TO_DEVICE || direction == DmaDirection.NONE) {
            return null;
        }
        ActiveCacheLines.Span span = new ActiveCacheLines.Span(base, start, size, owner);
        ActiveCacheLines.Span taken = lines.insert(span);
        if (taken == null || sharingDeclared(attrs)) {
            return span;
        }
        Described other = (Described) taken.owner;
        boolean sameBytes = span.sharesBytesWith(taken);
        boolean lineMatters = device instanceof DmaDevice d && d.cacheAlignment() >= ActiveCacheLines.LINE_BYTES;
        if (sameBytes || (lineMatters && !owner.bounced() && !other.bounced())) {
            findings.report("overlapping-mappings", "device driver maps memory the device may write that a live"
                    + " mapping already covers: cacheline tracking EEXIST, overlapping mappings aren't supported "
                    + owner.describe() + (sameBytes ? " [same bytes]" : " [same cache line, other bytes]")
                    + "\n  already mapped: " + other.describe() + "\n  already mapped at: " + other.mapSite(),
                    DebugChecks.siteText(site), Stacks.capture(), sameBytes
                    ? "map each receive buffer once at a time; unmap it (or wait for its completion) before giving"
                    + " it to the device again"
                    : "give each buffer the device writes its own cache lines (align and size it to"
                    + " DmaDevice.cacheAlignment()), or pass DmaAttr.SKIP_CPU_SYNC and sync by hand");
        }
        return span;
    }

    /**
     * The attributes with which {@code add_dma_entry()} (Linux 7.1) lets a new mapping share a line: the driver
     * syncs by hand ({@code SKIP_CPU_SYNC}), says it never dirties the shared lines
     * ({@code DEBUGGING_IGNORE_CACHELINES}), or needs a coherent path, where no line is written back
     * ({@code REQUIRE_COHERENT}).
     */
    static boolean sharingDeclared(int attrs) {
        return DmaAttr.SKIP_CPU_SYNC.in(attrs) || DmaAttr.DEBUGGING_IGNORE_CACHELINES.in(attrs)
                || DmaAttr.REQUIRE_COHERENT.in(attrs);
    }

    void remove(ActiveCacheLines.Span span) {
        if (span != null) {
            lines.remove(span);
        }
    }
}
