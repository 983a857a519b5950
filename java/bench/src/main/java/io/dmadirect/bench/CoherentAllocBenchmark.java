package io.dmadirect.bench;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.sim.SimulatedPlatform;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
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
public class CoherentAllocBenchmark {

    @Param({"64", "256", "1024", "4096", "16384", "65536"})
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

    @Benchmark
    public long dmadirect() {
        DmaBuffer buffer = device.allocCoherent(size, DmaAttr.SKIP_ZEROING);
        long address = buffer.dmaAddress();
        buffer.close();
        return address;
    }

    @Benchmark
    public long dmadirectZeroed() {
        DmaBuffer buffer = device.allocCoherent(size);
        long address = buffer.dmaAddress();
        buffer.close();
        return address;
    }

    @Benchmark
    public long nettyPooled() {
        ByteBuf buffer = netty.directBuffer(size);
        long address = buffer.memoryAddress();
        buffer.release();
        return address;
    }

    @Benchmark
    public long allocateDirect() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(size);
        long address = RawMemory.addressOf(buffer);
        RawMemory.release(buffer);
        return address;
    }
}
