package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import io.dmadirect.Sizes;
import io.dmadirect.Zone;
import io.dmadirect.spi.MemoryRun;
import java.util.Arrays;
import java.util.List;

/**
 * Every frame of the {@link io.dmadirect.spi.PhysicalMemory}, by index: physical and CPU address, zone, run.
 * A handle holds a frame index, so turning a handle into an address is an array read, never a map lookup or
 * a syscall (the kernel keeps {@code struct page} in {@code mem_map} for the same reason).
 *
 * <p>Immutable: growth builds a new table that keeps every existing index ({@link #withRuns}) and shares the
 * {@link Frame} objects, so a reader that holds an older table still reads correct addresses.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/mmzone.h">page_zone(), pfn_to_page()</a>
 */
final class FrameTable {
    final long frameSize;
    /** log2 of the pages per frame: the highest buddy order. */
    final int maxOrder;
    final ZoneLayout layout;
    final int count;

    final long[] phys;
    final long[] cpu;
    /** {@link Zone#ordinal()} of each frame, by its last byte, so a frame never reaches above its zone. */
    final byte[] zone;
    final MemoryRun[] run;
    final long[] runOffset;
    /** Frames with equal run ids and consecutive indices are contiguous physically and for the CPU. */
    final int[] runId;
    final Frame[] frames;

    /** Frame start addresses in ascending (unsigned) order, and the frame index of each, for {@link #frameAt}. */
    private final long[] sortedPhys;
    private final int[] sortedFrame;
    private final int nextRunId;

    private FrameTable(long frameSize, int maxOrder, ZoneLayout layout, int count, long[] phys, long[] cpu,
                       byte[] zone, MemoryRun[] run, long[] runOffset, int[] runId, Frame[] frames, int nextRunId) {
        this.frameSize = frameSize;
        this.maxOrder = maxOrder;
        this.layout = layout;
        this.count = count;
        this.phys = phys;
        this.cpu = cpu;
        this.zone = zone;
        this.run = run;
        this.runOffset = runOffset;
        this.runId = runId;
        this.frames = frames;
        this.nextRunId = nextRunId;
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compareUnsigned(phys[a], phys[b]));
        sortedPhys = new long[count];
        sortedFrame = new int[count];
        for (int i = 0; i < count; i++) {
            sortedFrame[i] = order[i];
            sortedPhys[i] = phys[order[i]];
            if (i > 0 && Long.compareUnsigned(sortedPhys[i - 1] + frameSize - 1, sortedPhys[i]) >= 0) {
                throw new IllegalArgumentException("failed to add memory: runs overlap at physical address "
                        + Sizes.hex(sortedPhys[i]));
            }
        }
    }

    static FrameTable empty(long frameSize, ZoneLayout layout) {
        if (frameSize < PageAllocator.PAGE_SIZE || Long.bitCount(frameSize) != 1) {
            throw new IllegalArgumentException("frame size must be a power of two of at least 4 KiB, got "
                    + frameSize);
        }
        int maxOrder = Long.numberOfTrailingZeros(frameSize / PageAllocator.PAGE_SIZE);
        if (maxOrder > Handles.MAX_PAGE_SHIFT) {
            throw new IllegalArgumentException("frame size " + Sizes.format(frameSize) + " is above the 64 GiB "
                    + "that a handle can address");
        }
        return new FrameTable(frameSize, maxOrder, layout, 0, new long[0], new long[0], new byte[0],
                new MemoryRun[0], new long[0], new int[0], new Frame[0], 0);
    }

    /** A table with the frames of {@code runs} appended; indices of existing frames do not change. */
    FrameTable withRuns(List<MemoryRun> runs) {
        long added = 0;
        for (MemoryRun r : runs) {
            if (r.size() <= 0 || r.size() % frameSize != 0 || r.frameBase() % PageAllocator.PAGE_SIZE != 0) {
                throw new IllegalArgumentException("failed to add memory: run at " + Sizes.hex(r.frameBase())
                        + " of " + r.size() + " bytes is not a whole number of " + Sizes.format(frameSize)
                        + " frames starting on a 4 KiB page");
            }
            added += r.size() / frameSize;
        }
        long total = count + added;
        // Free lists link pages by an int global page id (frame << maxOrder | page).
        if (total > (Integer.MAX_VALUE >> maxOrder)) {
            throw new IllegalArgumentException("failed to add memory: " + total + " frames of "
                    + Sizes.format(frameSize) + " exceed what the allocator indexes");
        }
        int n = (int) total;
        long[] nPhys = Arrays.copyOf(phys, n);
        long[] nCpu = Arrays.copyOf(cpu, n);
        byte[] nZone = Arrays.copyOf(zone, n);
        MemoryRun[] nRun = Arrays.copyOf(run, n);
        long[] nOffset = Arrays.copyOf(runOffset, n);
        int[] nRunId = Arrays.copyOf(runId, n);
        Frame[] nFrames = Arrays.copyOf(frames, n);
        int i = count;
        int id = nextRunId;
        int pagesPerFrame = 1 << maxOrder;
        for (MemoryRun r : runs) {
            for (long offset = 0; offset < r.size(); offset += frameSize, i++) {
                nPhys[i] = r.frameBase() + offset;
                nCpu[i] = r.cpuAddress() + offset;
                // A frame straddling a zone boundary belongs to the higher zone: its last byte decides.
                nZone[i] = (byte) layout.zoneOf(nPhys[i] + frameSize - 1).ordinal();
                nRun[i] = r;
                nOffset[i] = offset;
                nRunId[i] = id;
                nFrames[i] = new Frame(i, pagesPerFrame);
            }
            id++;
        }
        return new FrameTable(frameSize, maxOrder, layout, n, nPhys, nCpu, nZone, nRun, nOffset, nRunId, nFrames,
                id);
    }

    Zone zoneOf(int frame) {
        return ZONES[zone[frame]];
    }

    long lastByte(int frame) {
        return phys[frame] + frameSize - 1;
    }

    /** Whether frame {@code f + 1} follows frame {@code f} both physically and for the CPU. */
    boolean continues(int f) {
        return f + 1 < count && runId[f + 1] == runId[f];
    }

    /** The index of the frame that holds {@code physAddress}, or -1 when no frame does. */
    int frameAt(long physAddress) {
        int lo = 0;
        int hi = count - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(sortedPhys[mid], physAddress) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0 || Long.compareUnsigned(physAddress - sortedPhys[found], frameSize) >= 0) {
            return -1;
        }
        return sortedFrame[found];
    }

    /** Frames of {@code z} with index at least {@code from}, in ascending physical order. */
    int[] framesOf(Zone z, int from) {
        int[] out = new int[count];
        int n = 0;
        for (int s = 0; s < count; s++) {
            int f = sortedFrame[s];
            if (f >= from && zone[f] == z.ordinal()) {
                out[n++] = f;
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static final Zone[] ZONES = Zone.values();
}
