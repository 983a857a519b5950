package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.spi.MemoryRun;
import java.lang.System.Logger.Level;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * The search for the low-memory reserve: takes what a {@link LowMemoryQuota} asks for, reported in a
 * {@link LowMemoryReport}. It maps hugepages in batches, keeps the lowest up to each zone's quota and gives
 * the rest back; first from the pool's free pages, then, when asked,
 * behind a {@link Ballast} that pushes the kernel down into ZONE_DMA32. A page low enough for ZONE_DMA
 * may fill the ZONE_DMA32 quota once the ZONE_DMA quota is met, as lower memory satisfies any device a
 * higher zone does. Best effort: the report says what was obtained and why not more.
 */
final class LowMemorySearch {
    private static final System.Logger LOG = System.getLogger(LowMemorySearch.class.getName());
    private static final String PREFIX = "linux/lowmem: ";
    /** The ballast never takes the host below this much available memory. */
    static final long HOST_FLOOR_BYTES = Sizes.GiB;

    private final Syscalls sys;
    private final SegmentMapper mapper;
    private final HugepageSysfs sysfs;
    private final HugepageOptions options;
    private final FreeMemory free;
    private final long pageSize;
    private final LowMemoryQuota quota;
    /** The last physical address a kept page may touch: 4 GiB - 1 for the reserve, a device's limit on demand. */
    private final long keepLimit;
    /** How long a search may take, in nanoseconds from construction; 0 for no limit. */
    private final long timeLimitNanos;
    private final long constructed = System.nanoTime();

    // The state of one take(): what is kept, locked and searched so far.
    private long dmaKept;
    private long dma32Kept;
    private long lockedBytes;
    private long searchedPages;
    private String note = "";

    /** The reserve of {@code options}, taken at open. */
    LowMemorySearch(Syscalls sys, SegmentMapper mapper, HugepageSysfs sysfs, HugepageOptions options, FreeMemory free) {
        this(sys, mapper, sysfs, options, free, options.lowMemory(), 0xffff_ffffL, 0);
    }

    /**
     * {@code quota} in place of the options' own, keeping only pages wholly at or below {@code keepLimit}, and
     * stopping the search after {@code timeLimitNanos} (0 for no limit): low memory on demand.
     */
    LowMemorySearch(Syscalls sys, SegmentMapper mapper, HugepageSysfs sysfs, HugepageOptions options, FreeMemory free,
            LowMemoryQuota quota, long keepLimit, long timeLimitNanos) {
        this.sys = sys;
        this.mapper = mapper;
        this.sysfs = sysfs;
        this.options = options;
        this.free = free;
        this.pageSize = options.pageSize().bytes();
        this.quota = quota;
        this.keepLimit = keepLimit;
        this.timeLimitNanos = timeLimitNanos;
    }

    /** Takes the reserve and hands the kept pages to {@code add}; {@code locked} is what is locked already. */
    LowMemoryReport take(long locked, Function<Segment, List<MemoryRun>> add) {
        if (!quota.wanted()) {
            return LowMemoryReport.none(quota, "");
        }
        long start = System.nanoTime();
        lockedBytes = locked;
        long poolPages = Math.min(options.pagesFor(quota.searchBytes()), sysfs.availableHugepages(options.pageSize()));
        if (poolPages > 0) {
            batch(poolPages, add);
        }
        long ballastPeak = 0;
        if (missingPages() > 0 && quota.ballastBytes() > 0 && !pastDeadline()) {
            ballastPeak = withBallast(options.pagesFor(quota.ballastBytes()), add);
        }
        if (dmaKept < options.pagesFor(quota.dmaBytes())) {
            note = join(note, "ZONE_DMA is kept for GFP_DMA allocations by the kernel's lowmem_reserve, so run-time "
                    + "hugepages rarely come from it; boot-time hugepages=N may");
        }
        if (searchedPages == 0 && note.isEmpty()) {
            note = "no free hugepages to search and no ballast allowed";
        }
        LowMemoryReport report = new LowMemoryReport(quota.dmaBytes(), dmaKept * pageSize, quota.dma32Bytes(),
                dma32Kept * pageSize, searchedPages * pageSize, ballastPeak * pageSize, System.nanoTime() - start, note);
        LOG.log(Level.INFO, PREFIX + "{0}", report);
        return report;
    }

    /**
     * Grows the ballast a step at a time, and maps a batch each time the low zones' free pages show that
     * the kernel has started handing out memory below 4 GiB. Returns the ballast's peak in pages.
     */
    private long withBallast(long budgetPages, Function<Segment, List<MemoryRun>> add) {
        long step = Math.max(1, Math.min(Sizes.GiB / pageSize, budgetPages));
        long basePagesPerPage = pageSize / sys.pageSize();
        long lowFreeAtStart = free.lowZoneFreePages();
        try (Ballast ballast = new Ballast(sys, sysfs, options.pageSize(), budgetPages + 2 * wantedPages())) {
            while (missingPages() > 0) {
                if (pastDeadline()) {
                    break;
                }
                if (lowFreeAtStart - free.lowZoneFreePages() >= basePagesPerPage) {
                    long kept = batch(missingPages(), add);
                    if (kept < 0) {
                        break;
                    }
                    if (kept > 0) {
                        continue;
                    }
                }
                if (!growBallast(ballast, budgetPages, approachStep(step, basePagesPerPage))) {
                    break;
                }
            }
            return ballast.peakPages();
        } catch (LinuxException e) {
            note = join(note, "no ballast: " + e.getMessage());
            return 0;
        }
    }

    /**
     * Steps shrink as ZONE_NORMAL runs out: half of what it still has free above a margin for its
     * watermarks ({@link #WATERMARK_MARGIN_BYTES}), down to one page. The pages the kernel hands out first from
     * ZONE_DMA32 are its lowest (boot frees memory to the tail of the free lists, in address order), which a
     * device with a mask below 32 bits needs; a large last step would put them in the ballast instead of in
     * the next batch.
     */
    private long approachStep(long maxStep, long basePagesPerPage) {
        long highFree = free.highZoneFreePages() / basePagesPerPage - WATERMARK_MARGIN_BYTES / pageSize;
        return Math.max(1, Math.min(maxStep, highFree / 2));
    }

    /** ZONE_NORMAL stops handing out pages at its watermarks, some tens of MiB before it is empty. */
    static final long WATERMARK_MARGIN_BYTES = 64 * Sizes.MiB;

    /** One more step of ballast, unless the cap on new pages, the host's floor or the kernel says stop (noted). */
    private boolean growBallast(Ballast ballast, long budgetPages, long step) {
        BallastStep next = BallastStep.next(budgetPages, ballast.newPages(), ballast.poolPagesLeft(), step,
                free.availableBytes(), HOST_FLOOR_BYTES, pageSize);
        if (next.pages() == 0) {
            note = join(note, next.stop());
            return false;
        }
        if (!ballast.add(next.pages())) {
            note = join(note, "the kernel had no more hugepages to hold back");
            return false;
        }
        return true;
    }

    /** Maps {@code pages}, keeps the low ones; returns how many were kept, or -1 when mapping failed (noted). */
    private long batch(long pages, Function<Segment, List<MemoryRun>> add) {
        Segment segment;
        try {
            segment = mapper.map(Math.toIntExact(pages), lockedBytes);
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, PREFIX + "cannot map pages to search: {0}", e.getMessage());
            note = join(note, e.getMessage());
            return -1;
        }
        searchedPages += pages;
        long kept = keepLow(segment);
        if (kept == 0) {
            segment.close(sys);
        } else {
            add.apply(segment);
            lockedBytes += kept * pageSize;
        }
        return kept;
    }

    /** Keeps the lowest pages of the segment that fill a quota and gives the others back; returns how many were kept. */
    private long keepLow(Segment segment) {
        long dmaWanted = options.pagesFor(quota.dmaBytes());
        long dma32Wanted = options.pagesFor(quota.dma32Bytes());
        long kept = 0;
        int[] byAddress = IntStream.range(0, segment.pages()).boxed()
                .sorted(Comparator.comparingLong(segment::physAddress)).mapToInt(Integer::intValue).toArray();
        try {
            for (int page : byAddress) {
                Zone zone = zoneOfPage(options.zoneLayout(), segment.physAddress(page), pageSize);
                if (Long.compareUnsigned(segment.physAddress(page) + pageSize - 1, keepLimit) > 0) {
                    segment.release(sys, page);
                } else if (zone == Zone.DMA && dmaKept < dmaWanted) {
                    dmaKept++;
                    kept++;
                } else if (zone != Zone.NORMAL && dma32Kept < dma32Wanted) {
                    dma32Kept++;
                    kept++;
                } else {
                    segment.release(sys, page);
                }
            }
        } catch (LinuxException e) {
            // A page that cannot be given back only costs memory; the kept pages are still good.
            LOG.log(Level.WARNING, PREFIX + "could not give back every searched page: {0}", e.getMessage());
        }
        return kept;
    }

    private long wantedPages() {
        return options.pagesFor(quota.dmaBytes()) + options.pagesFor(quota.dma32Bytes());
    }

    /** Pages still wanted below 4 GiB; a ZONE_DMA shortfall counts only as far as ballast can help (ZONE_DMA32). */
    private long missingPages() {
        return Math.max(options.pagesFor(quota.dma32Bytes()) - dma32Kept, 0);
    }

    /** Whether the time allowed is up (noted once). */
    private boolean pastDeadline() {
        if (timeLimitNanos == 0 || System.nanoTime() - constructed < timeLimitNanos) {
            return false;
        }
        if (!note.contains("time limit")) {
            note = join(note, "stopped at the time limit of " + timeLimitNanos / 1_000_000 + " ms");
        }
        return true;
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "; " + b;
    }

    /** The zone a whole page lies in: that of its last byte, so a page straddling a zone end counts as higher. */
    static Zone zoneOfPage(ZoneLayout layout, long physBase, long pageSize) {
        return layout.zoneOf(physBase + pageSize - 1);
    }
}
