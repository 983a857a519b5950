package io.dmadirect.bench;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
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
import org.openjdk.jmh.annotations.TearDown;
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
public class ThreadScalingBenchmark {

    @Param({"4096"})
    int size;

    SimulatedPlatform platform;
    DmaDevice device;
    PooledByteBufAllocator netty;

    @Setup(Level.Trial)
    public void open() {
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 256 * MiB).region(4 * GiB, 256 * MiB)
                .build();
        device = platform.attach(DeviceProperties.simple("bench"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        netty = new PooledByteBufAllocator(true);
    }

    @TearDown(Level.Trial)
    public void close() {
        platform.close();
    }

    long dmadirect() {
        DmaBuffer buffer = device.allocCoherent(size, DmaAttr.SKIP_ZEROING);
        long address = buffer.dmaAddress();
        buffer.close();
        return address;
    }

    long netty() {
        ByteBuf buffer = netty.directBuffer(size);
        long address = buffer.memoryAddress();
        buffer.release();
        return address;
    }

    @Benchmark
    @Threads(1)
    public long dmadirectThreads1() {
        return dmadirect();
    }

    @Benchmark
    @Threads(2)
    public long dmadirectThreads2() {
        return dmadirect();
    }

    @Benchmark
    @Threads(1)
    public long nettyPooledThreads1() {
        return netty();
    }

    @Benchmark
    @Threads(2)
    public long nettyPooledThreads2() {
        return netty();
    }
}
