package io.dmadirect.bench;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.SwiotlbConfig;
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
 * Streaming map+unmap, with its anchor in the same run.
 *
 * <ul>
 *   <li>{@code directMapUnmap}: a coherent buffer's view mapped TO_DEVICE and unmapped through the object API
 *       ({@code DmaMapping}), no bounce. {@code size} does not matter to it.</li>
 *   <li>{@code primitiveDirectMapUnmap}: the same through the primitive API ({@code mapSingle} and
 *       {@code unmapSingle} on a {@code long}): the target is 10 ns or less and 0 B/op.</li>
 *   <li>{@code bounceToDevice}: a page-aligned {@code allocateDirect} buffer (not DMA memory) mapped TO_DEVICE
 *       and unmapped through the object API: one copy into the pool, plus the slot search and release.</li>
 *   <li>{@code primitiveBounceToDevice}: the same through the primitive API, 0 B/op; the target is at least
 *       half the anchor's bandwidth at 4 KiB.</li>
 *   <li>{@code bounceFromDevice}: the object API FROM_DEVICE: the copy in at map (kept from the kernel, see
 *       {@code StreamingMapper#bounce}) and the copy back at unmap, so two copies.</li>
 *   <li>{@code anchorCopy}: a plain copy of {@code size} bytes between two page-aligned direct buffers, the
 *       same bytes {@code bounceToDevice} moves between the same kind of memory (the bounce pool is
 *       page-aligned too; a 16-byte aligned {@code allocateDirect} pair would make the anchor slower than the
 *       copy it anchors).</li>
 * </ul>
 * Times are per operation; bandwidth is {@code size / time}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@State(Scope.Benchmark)
public class StreamingMapBenchmark {

    @Param({"1024", "4096", "16384", "65536", "262144"})
    int size;

    SimulatedPlatform platform;
    DmaDevice device;
    DmaBuffer coherent;
    ByteBuffer dmaView;
    ByteBuffer source;
    ByteBuffer target;

    @Setup(Level.Trial)
    public void open() {
        platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 256 * MiB).atomicPools(0, 0)
                .bouncePool(SwiotlbConfig.defaults().withBytes(16 * MiB)).build();
        device = platform.attach(DeviceProperties.simple("bench"));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        coherent = device.allocCoherent(size);
        dmaView = coherent.cpuView();
        source = pageAligned(size);
        target = pageAligned(size);
        for (int i = 0; i < size; i++) {
            source.put(i, (byte) i);
        }
    }

    /** {@code size} bytes of a direct buffer starting on a page, as the bounce pool's slots do. */
    static ByteBuffer pageAligned(int size) {
        // alignedSlice() rounds the end down too, so the whole pages asked for must fit after the first page boundary.
        int pages = (size + 4095) & -4096;
        return ByteBuffer.allocateDirect(pages + 4096).alignedSlice(4096).limit(size).slice();
    }

    @TearDown(Level.Trial)
    public void close() {
        coherent.close();
        platform.close();
    }

    @Benchmark
    public long directMapUnmap() {
        DmaMapping mapping = device.map(dmaView, DmaDirection.TO_DEVICE);
        long dma = mapping.dmaAddress();
        mapping.close();
        return dma;
    }

    @Benchmark
    public long primitiveDirectMapUnmap() {
        long dma = device.mapSingle(dmaView, 0, size, DmaDirection.TO_DEVICE, 0);
        device.unmapSingle(dma, size, DmaDirection.TO_DEVICE, 0);
        return dma;
    }

    @Benchmark
    public long primitiveBounceToDevice() {
        long dma = device.mapSingle(source, 0, size, DmaDirection.TO_DEVICE, 0);
        device.unmapSingle(dma, size, DmaDirection.TO_DEVICE, 0);
        return dma;
    }

    @Benchmark
    public long bounceToDevice() {
        DmaMapping mapping = device.map(source, DmaDirection.TO_DEVICE);
        long dma = mapping.dmaAddress();
        mapping.close();
        return dma;
    }

    @Benchmark
    public long bounceFromDevice() {
        DmaMapping mapping = device.map(target, DmaDirection.FROM_DEVICE);
        long dma = mapping.dmaAddress();
        mapping.close();
        return dma;
    }

    @Benchmark
    public ByteBuffer anchorCopy() {
        return target.put(0, source, 0, size);
    }
}
