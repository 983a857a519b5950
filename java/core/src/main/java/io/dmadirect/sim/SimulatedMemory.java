package io.dmadirect.sim;

import io.dmadirect.Addresses;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.spi.LowMemoryAttempt;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.spi.PhysicalMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The memory of a simulated machine: regions of physical address space (with holes between them),
 * each backed by real off-heap memory so that buffers can be written and read, and devices can DMA
 * into them. A region larger than 1 GiB is backed by several runs, which are physically adjacent but
 * not adjacent in the CPU's view, as two separate mappings on a real host would be.
 */
public final class SimulatedMemory implements PhysicalMemory {
    static final long MAX_RUN = 1L << 30;

    private final long frameSize;
    private final long systemMaxPhys;
    private volatile List<Run> runs;
    /** Frames the machine has free below the regions held, handed out lowest first by {@link #growBelow}. */
    private final java.util.TreeSet<Long> obtainable = new java.util.TreeSet<>(Long::compareUnsigned);
    private volatile boolean closed;

    /**
     * @param frameSize     the page size whose physical address is known, a power of two of at least 4 KiB
     * @param regions       {@code {base, size}} pairs, each a whole number of frames and frame-aligned
     * @param systemMaxPhys the last physical address of the whole simulated machine's RAM, which may lie
     *                      beyond the regions held (as on a host with more RAM than its hugepages); -1 for
     *                      the end of the highest region
     */
    public SimulatedMemory(long frameSize, List<long[]> regions, long systemMaxPhys) {
        if (frameSize < 4096 || Long.bitCount(frameSize) != 1) {
            throw new IllegalArgumentException("frame size must be a power of two of at least 4 KiB, got " + frameSize);
        }
        this.frameSize = frameSize;
        List<long[]> sorted = new ArrayList<>(regions);
        sorted.sort(Comparator.comparing((long[] r) -> r[0], Long::compareUnsigned));
        List<Run> made = new ArrayList<>();
        long previousEnd = 0;
        boolean first = true;
        for (long[] region : sorted) {
            long base = region[0];
            long size = region[1];
            checkRegion(base, size, frameSize);
            if (!first && Long.compareUnsigned(base, previousEnd) < 0) {
                throw new IllegalArgumentException(String.format("region at 0x%x overlaps the one before it", base));
            }
            first = false;
            previousEnd = base + size;
            for (long offset = 0; offset < size; offset += MAX_RUN) {
                made.add(new Run(base + offset, Math.min(MAX_RUN, size - offset)));
            }
        }
        if (made.isEmpty()) {
            throw new IllegalArgumentException("a simulated machine needs at least one memory region");
        }
        this.runs = List.copyOf(made);
        Run highest = made.get(made.size() - 1);
        long highestEnd = highest.physBase + highest.size - 1;
        if (systemMaxPhys != -1L && Long.compareUnsigned(systemMaxPhys, highestEnd) < 0) {
            throw new IllegalArgumentException(String.format(
                    "the machine's highest address 0x%x lies below memory it holds (0x%x)", systemMaxPhys, highestEnd));
        }
        this.systemMaxPhys = systemMaxPhys == -1L ? highestEnd : systemMaxPhys;
    }

    private static void checkRegion(long base, long size, long frameSize) {
        if (size <= 0 || size % frameSize != 0 || base % frameSize != 0) {
            throw new IllegalArgumentException(String.format(
                    "region at 0x%x of 0x%x bytes must be a positive whole number of %d-byte frames, frame-aligned",
                    base, size, frameSize));
        }
        if (Long.compareUnsigned(base + size - 1, base) < 0) {
            throw new IllegalArgumentException(String.format("region at 0x%x of 0x%x bytes wraps around", base, size));
        }
    }

    @Override
    public long frameSize() {
        return frameSize;
    }

    @Override
    public List<MemoryRun> runs() {
        return List.copyOf(runs);
    }

    /** {@inheritDoc} Without a copy. */
    @Override
    public int runCount() {
        return runs.size();
    }

    /**
     * Makes {@code [base, base + size)} memory the machine has free but the platform does not hold yet: low
     * memory on demand ({@link #growBelow}) takes from it. Frame-aligned, whole frames, apart from memory held.
     */
    public synchronized void addObtainable(long base, long size) {
        checkRegion(base, size, frameSize);
        for (long frame = base; Long.compareUnsigned(frame, base + size - 1) < 0; frame += frameSize) {
            if (cpuAddressOf(frame, 1) != Addresses.NO_CPU_ADDRESS) {
                throw new IllegalArgumentException(String.format("obtainable frame 0x%x is already held", frame));
            }
            obtainable.add(frame);
        }
    }

    /**
     * Low memory on demand on the simulated machine: the lowest obtainable frames wholly at or below
     * {@code physLimit}, {@code minBytes} rounded up to frames, each frame its own run (as scattered
     * hugepages are).
     */
    @Override
    public synchronized LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        if (closed) {
            return LowMemoryAttempt.none("the simulated memory is closed");
        }
        long start = System.nanoTime();
        long frames = Math.max(1, (minBytes + frameSize - 1) / frameSize);
        List<Run> added = new ArrayList<>();
        for (java.util.Iterator<Long> it = obtainable.iterator(); it.hasNext() && added.size() < frames; ) {
            long frame = it.next();
            if (Long.compareUnsigned(frame + frameSize - 1, physLimit) > 0) {
                break;
            }
            it.remove();
            added.add(new Run(frame, frameSize));
        }
        List<Run> all = new ArrayList<>(runs);
        all.addAll(added);
        runs = List.copyOf(all);
        String tried = "the simulated machine had " + added.size() + " of " + frames + " frames free below 0x"
                + Long.toHexString(physLimit);
        return new LowMemoryAttempt(List.copyOf(added), System.nanoTime() - start, tried);
    }

    @Override
    public long systemMaxPhysAddress() {
        return systemMaxPhys;
    }

    /** The CPU address of physical address {@code phys}, or {@link Addresses#NO_CPU_ADDRESS} in a hole. */
    public long cpuAddressOf(long phys, long length) {
        for (Run run : runs) {
            long offset = phys - run.physBase;
            if (Long.compareUnsigned(phys, run.physBase) >= 0 && Long.compareUnsigned(offset, run.size) < 0) {
                return Long.compareUnsigned(offset + length, run.size) <= 0 ? run.cpuAddress + offset : Addresses.NO_CPU_ADDRESS;
            }
        }
        return Addresses.NO_CPU_ADDRESS;
    }

    /**
     * Marks the memory closed and zeroes it, as a Linux platform's close leaves zero-filled memory under
     * views kept past close. The backing is left to the garbage collector rather than freed here, so a
     * view a careless test kept cannot touch freed native memory and crash the JVM. The platform closes
     * its memory only after every operation on it finished, so the zeroing races nothing of ours.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Run run : runs) {
            RawMemory.fill(run.cpuAddress, run.size, (byte) 0);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    private static final class Run implements MemoryRun {
        final long physBase;
        final long size;
        final ByteBuffer backing;
        final long cpuAddress;

        Run(long physBase, long size) {
            this.physBase = physBase;
            this.size = size;
            this.backing = pageAligned(size);
            this.cpuAddress = RawMemory.addressOf(backing);
        }

        /**
         * The run's memory starting on a page, as a hugepage's mapping does on a host: {@code allocateDirect} alone
         * starts 16 bytes into a page, which made every bounce copy into the pool a misaligned one (a 4 KiB copy
         * took 36 ns against 20 ns page-aligned on the EPYC of docs/benchmarks.md) and the simulated CPU addresses
         * disagree with the physical ones below the page size.
         */
        private static ByteBuffer pageAligned(long size) {
            int page = (int) PageAllocator.PAGE_SIZE;
            if (size > Integer.MAX_VALUE - page) {
                return ByteBuffer.allocateDirect((int) size);
            }
            return ByteBuffer.allocateDirect((int) size + page).alignedSlice(page).limit((int) size).slice();
        }

        @Override
        public long frameBase() {
            return physBase;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public long cpuAddress() {
            return cpuAddress;
        }

        @Override
        public ByteBuffer cpuView(long offset, int length) {
            return backing.slice(Math.toIntExact(offset), length);
        }
    }
}
