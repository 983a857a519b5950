package io.dmadirect.bench;

import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DmaPlatform;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;
import io.dmadirect.host.LinuxPlatform;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.Pagemap;
import io.dmadirect.linux.Syscalls;
import io.dmadirect.linux.headers.Mman;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.spi.MemoryRun;
import java.io.IOException;
import java.nio.file.Files;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Real host memory, as root, with anchors in the same run:
 * <ul>
 *   <li><b>start</b>, in ns per 2 MiB page: {@code LinuxPlatform.open} with {@value #START_PAGES}
 *       hugepages and its close, against the least any program pays for the same pinned hugepages: an
 *       anonymous MAP_HUGETLB mmap, a touch of each page, mlock, munmap;</li>
 *   <li><b>translation</b>, in ns per lookup: the platform's table lookup (CPU virtual address to DMA
 *       address), against the least a lookup can cost in Java, one flat {@code long[]} indexed by hugepage over
 *       the same memory, and against a pagemap read of the same addresses, through {@link Pagemap} (FileChannel)
 *       and through a raw pread.</li>
 * </ul>
 * The pool is raised in {@code @Setup} and put back in {@code @TearDown}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class HostMemoryBenchmark {
    static final int START_PAGES = 128;
    private static final long PAGE = 2 * MiB;
    private static final HugepageSize SIZE = HugepageSize.SIZE_2M;

    /** Raises nr_hugepages by what the benchmark needs, and puts it back. */
    @State(Scope.Benchmark)
    public static class Pool {
        long previous;

        @Setup(Level.Trial)
        public void reserve() throws IOException {
            previous = HugepageSysfs.DEFAULT.nrHugepages(SIZE);
            write(previous + START_PAGES + 8);
        }

        @TearDown(Level.Trial)
        public void restore() throws IOException {
            write(previous);
        }

        private static void write(long pages) throws IOException {
            Files.writeString(HugepageSysfs.DEFAULT.nrHugepagesPath(SIZE), Long.toString(pages));
        }
    }

    /** A platform of 64 hugepages and 4096 addresses spread over it, looked up in turn. */
    @State(Scope.Benchmark)
    public static class Translation {
        LinuxPlatform platform;
        Pagemap pagemap;
        Syscalls sys;
        int pagemapFd;
        final java.nio.ByteBuffer entry = java.nio.ByteBuffer.allocateDirect(8);
        final long[] addresses = new long[4096];
        int next;
        /** The anchor's flat table: the physical address of each hugepage from {@code flatBase} on. */
        long[] flat;
        long flatBase;

        @Setup(Level.Trial)
        public void open(Pool pool) {
            platform = LinuxPlatform.open(options(64));
            sys = LinuxSyscalls.instance();
            pagemap = Pagemap.openSelf(sys.pageSize());
            pagemapFd = sys.open("/proc/self/pagemap", 0, 0);
            SplittableRandom random = new SplittableRandom(42);
            var runs = platform.memory().runs();
            for (int i = 0; i < addresses.length; i++) {
                MemoryRun run = runs.get(random.nextInt(runs.size()));
                addresses[i] = run.cpuAddress() + random.nextLong(run.size());
            }
            flatBase = runs.stream().mapToLong(MemoryRun::cpuAddress).min().orElseThrow();
            long flatEnd = runs.stream().mapToLong(r -> r.cpuAddress() + r.size()).max().orElseThrow();
            flat = new long[(int) ((flatEnd - flatBase) / PAGE)];
            for (int i = 0; i < flat.length; i++) {
                flat[i] = platform.dmaAddress(flatBase + i * PAGE);
            }
        }

        long nextAddress() {
            return addresses[next++ & (addresses.length - 1)];
        }

        @TearDown(Level.Trial)
        public void close() {
            sys.close(pagemapFd);
            pagemap.close();
            platform.close();
        }
    }

    static LinuxPlatformOptions options(int pages) {
        return LinuxPlatformOptions.DEFAULTS.withHugepages(
                HugepageOptions.DEFAULTS.withName("dmadirect-bench").withInitialBytes(pages * PAGE));
    }

    @Benchmark
    @OperationsPerInvocation(START_PAGES)
    public int startPlatform(Pool pool) {
        try (DmaPlatform platform = LinuxPlatform.open(options(START_PAGES))) {
            return platform.zoneDmaBits();
        }
    }

    /** The anchor: what any program pays to get the same hugepages pinned. */
    @Benchmark
    @OperationsPerInvocation(START_PAGES)
    public long startRawMmapTouchMlock(Pool pool) {
        Syscalls sys = LinuxSyscalls.instance();
        long bytes = START_PAGES * PAGE;
        long address = sys.mmap(0, bytes, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_HUGETLB | SIZE.memfdFlag(), -1, 0);
        for (long offset = 0; offset < bytes; offset += PAGE) {
            RawMemory.putByte(address + offset, (byte) 1);
        }
        sys.mlock(address, bytes);
        sys.munmap(address, bytes);
        return address;
    }

    @Benchmark
    public long translateTable(Translation t) {
        return t.platform.dmaAddress(t.nextAddress());
    }

    /** The anchor: one flat array indexed by hugepage, with Java's bounds check and nothing else. */
    @Benchmark
    public long translateFlatTable(Translation t) {
        long address = t.nextAddress();
        return t.flat[(int) ((address - t.flatBase) >>> 21)] + (address & (PAGE - 1));
    }

    @Benchmark
    public long translatePagemap(Translation t) {
        return t.pagemap.physicalAddress(t.nextAddress());
    }

    /** A bare pread of the pagemap entry, without the checks: the floor of any pagemap-based translation. */
    @Benchmark
    public long translatePagemapRawPread(Translation t) {
        long address = t.nextAddress();
        t.entry.clear();
        t.sys.pread(t.pagemapFd, t.entry, address / 4096 * 8);
        return (t.entry.getLong(0) & 0x7F_FFFF_FFFF_FFFFL) * 4096 + (address & 4095);
    }
}
