package io.dmadirect.bench;

import io.dmadirect.DmaPool;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 17's target: one {@code dma_pool} block allocated and freed, 64 B and 512 B, at most half the time of the
 * anchor in the same run, Netty's pooled direct buffer allocated and released ({@code nettyPooled}).
 *
 * <p>{@code poolPrimitive} is the path that allocates no Java object (the DMA address in, the DMA address out);
 * {@code poolPrimitiveWrite} also writes the block's first word through its page's view, as a driver filling a
 * descriptor does; {@code poolBlock} is the object path ({@link DmaPool.Block}); {@code poolZalloc} zeroes the
 * block ({@code dma_pool_zalloc}). Run with {@code -prof gc}: the primitive paths should show 0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@State(Scope.Benchmark)
public class DmaPoolBenchmark extends AllocationBenchmarkBase {

    @Param({"64", "512"})
    int size;

    DmaPool pool;

    @Setup(Level.Trial)
    public void createPool() {
        pool = device.createPool("bench", size, 0, 0);
        pool.free(pool.alloc(0)); // the first page, so that growth is not measured
    }

    @Benchmark
    public long poolPrimitive() {
        long dma = pool.alloc(0);
        pool.free(dma);
        return dma;
    }

    @Benchmark
    public long poolPrimitiveWrite() {
        long dma = pool.alloc(0);
        pool.pageView(dma).putLong(pool.pageOffset(dma), dma);
        pool.free(dma);
        return dma;
    }

    @Benchmark
    public long poolZalloc() {
        long dma = pool.zalloc(0);
        pool.free(dma);
        return dma;
    }

    @Benchmark
    public long poolBlock() {
        DmaPool.Block block = pool.allocBlock();
        long dma = block.dmaAddress();
        block.close();
        return dma;
    }

    @Benchmark
    public long nettyPooled() {
        return nettyPair(size);
    }
}
