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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the allocation benchmarks share: a simulated machine (16 MiB of ZONE_DMA, 256 MiB of DMA32 and of
 * NORMAL) with one 64-bit device, and Netty's pooled direct allocator as the anchor, and one
 * allocate/free pair of each. Subclasses declare the sizes and the benchmark methods.
 */
@State(Scope.Benchmark)
public abstract class AllocationBenchmarkBase {
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

    /** {@link DmaAttr#SKIP_ZEROING} as the int the hot-path call takes: a constant, no array per call. */
    static final int SKIP_ZEROING = DmaAttr.flags(DmaAttr.SKIP_ZEROING);

    /**
     * One coherent allocate/free pair; returns the DMA address so that nothing is optimised away.
     *
     * @param attrs {@link DmaAttr#flags} bits
     */
    long dmadirectPair(int size, int attrs) {
        DmaBuffer buffer = device.allocCoherent(size, attrs);
        long address = buffer.dmaAddress();
        buffer.close();
        return address;
    }

    /** The anchor: one pooled direct buffer allocated and released. */
    long nettyPair(int size) {
        ByteBuf buffer = netty.directBuffer(size);
        long address = buffer.memoryAddress();
        buffer.release();
        return address;
    }
}
