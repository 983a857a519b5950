package io.dmadirect.bench;

import io.dmadirect.memory.RawMemory;
import java.nio.ByteBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One coherent allocate/free pair, against its anchors in the same run: Netty's pooled direct buffers
 * (allocate/release) and {@code ByteBuffer.allocateDirect} (with an explicit free, so the collector's
 * timing does not enter).
 *
 * <p>{@code dmadirect} skips zeroing, which is the work Netty does; {@code dmadirectZeroed} zeroes the
 * buffer as the kernel's {@code dma_alloc_coherent()} guarantees. Both are reported.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@State(Scope.Benchmark)
public class CoherentAllocBenchmark extends AllocationBenchmarkBase {

    @Param({"64", "256", "1024", "4096", "16384", "65536"})
    int size;

    @Benchmark
    public long dmadirect() {
        return dmadirectPair(size, SKIP_ZEROING);
    }

    @Benchmark
    public long dmadirectZeroed() {
        return dmadirectPair(size, 0);
    }

    @Benchmark
    public long nettyPooled() {
        return nettyPair(size);
    }

    @Benchmark
    public long allocateDirect() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(size);
        long address = RawMemory.addressOf(buffer);
        DirectBufferFree.free(buffer);
        return address;
    }
}
