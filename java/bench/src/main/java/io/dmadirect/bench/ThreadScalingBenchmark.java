package io.dmadirect.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Scaling with threads: one device and one Netty allocator shared by 1 and by 2 threads (the machines
 * this runs on have 2 cores), each thread allocating and freeing in a loop. Throughput is the total over
 * all threads, in operations per microsecond; perfect scaling doubles it from 1 to 2 threads. The method
 * name ends in the thread count, so the report can plot it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@State(Scope.Benchmark)
public class ThreadScalingBenchmark extends AllocationBenchmarkBase {

    @Param({"4096"})
    int size;

    @Benchmark
    @Threads(1)
    public long dmadirectThreads1() {
        return dmadirectPair(size, SKIP_ZEROING);
    }

    @Benchmark
    @Threads(2)
    public long dmadirectThreads2() {
        return dmadirectPair(size, SKIP_ZEROING);
    }

    @Benchmark
    @Threads(1)
    public long nettyPooledThreads1() {
        return nettyPair(size);
    }

    @Benchmark
    @Threads(2)
    public long nettyPooledThreads2() {
        return nettyPair(size);
    }
}
