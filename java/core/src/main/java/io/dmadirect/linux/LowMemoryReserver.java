package io.dmadirect.linux;

import io.dmadirect.Zone;
import io.dmadirect.memory.ZoneLayout;
import io.dmadirect.spi.MemoryRun;
import java.lang.System.Logger.Level;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Takes the low-memory reserve: maps extra hugepages, keeps the lowest ones up to each zone's quota and
 * gives the rest back to the pool. A page low enough for ZONE_DMA may fill the ZONE_DMA32 quota once the
 * ZONE_DMA quota is met, as lower memory satisfies any device a higher zone does.
 *
 * <p>Best effort: the pool's pages were chosen by the kernel when they were reserved (from the highest
 * zone first at run time; boot-time {@code hugepages=N} reservations lie lower), so the report says what
 * was obtained.
 */
final class LowMemoryReserver {
    private static final System.Logger LOG = System.getLogger(LowMemoryReserver.class.getName());
    private static final String PREFIX = "linux/lowmem: ";

    private final Syscalls sys;
    private final SegmentMapper mapper;
    private final HugepageSysfs sysfs;
    private final HugepageOptions options;

    LowMemoryReserver(Syscalls sys, SegmentMapper mapper, HugepageSysfs sysfs, HugepageOptions options) {
        this.sys = sys;
        this.mapper = mapper;
        this.sysfs = sysfs;
        this.options = options;
    }

    /** Takes the reserve and hands the kept pages to {@code add}; {@code lockedBytes} is what is locked already. */
    LowMemoryReport take(long lockedBytes, Function<Segment, List<MemoryRun>> add) {
        LowMemoryReserve reserve = options.lowMemory();
        if (!reserve.wanted()) {
            return LowMemoryReport.none(reserve, "");
        }
        long pages = Math.min(options.pagesFor(reserve.searchBytes()), sysfs.availableHugepages(options.pageSize()));
        if (pages <= 0) {
            return LowMemoryReport.none(reserve, "no free hugepages to search");
        }
        Segment segment;
        try {
            segment = mapper.map(Math.toIntExact(pages), lockedBytes);
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, PREFIX + "no low-memory reserve: {0}", e.getMessage());
            return LowMemoryReport.none(reserve, e.getMessage());
        }
        return keepLow(segment, reserve, add);
    }

    private LowMemoryReport keepLow(Segment segment, LowMemoryReserve reserve, Function<Segment, List<MemoryRun>> add) {
        long pageSize = options.pageSize().bytes();
        long dmaWanted = options.pagesFor(reserve.dmaBytes());
        long dma32Wanted = options.pagesFor(reserve.dma32Bytes());
        long dmaKept = 0;
        long dma32Kept = 0;
        int[] byAddress = IntStream.range(0, segment.pages()).boxed()
                .sorted(Comparator.comparingLong(segment::physAddress)).mapToInt(Integer::intValue).toArray();
        try {
            for (int page : byAddress) {
                Zone zone = zoneOfPage(options.zoneLayout(), segment.physAddress(page), pageSize);
                if (zone == Zone.DMA && dmaKept < dmaWanted) {
                    dmaKept++;
                } else if (zone != Zone.NORMAL && dma32Kept < dma32Wanted) {
                    dma32Kept++;
                } else {
                    segment.release(sys, page);
                }
            }
        } catch (LinuxException e) {
            // A page that cannot be given back only costs memory; the kept pages are still good.
            LOG.log(Level.WARNING, PREFIX + "could not give back every searched page: {0}", e.getMessage());
        }
        if (dmaKept + dma32Kept == 0) {
            segment.close(sys);
        } else {
            add.apply(segment);
        }
        LowMemoryReport report = new LowMemoryReport(reserve.dmaBytes(), dmaKept * pageSize, reserve.dma32Bytes(),
                dma32Kept * pageSize, segment.pages() * pageSize, "");
        LOG.log(Level.INFO, PREFIX + "{0}", report);
        return report;
    }

    /** The zone a whole page lies in: that of its last byte, so a page straddling a zone end counts as higher. */
    static Zone zoneOfPage(ZoneLayout layout, long physBase, long pageSize) {
        return layout.zoneOf(physBase + pageSize - 1);
    }
}
