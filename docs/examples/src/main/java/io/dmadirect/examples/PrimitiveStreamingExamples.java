package io.dmadirect.examples;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/** The guide's primitive streaming examples: {@code dma_map_single()} and {@code dma_map_sg()} on longs. */
public final class PrimitiveStreamingExamples {
    private PrimitiveStreamingExamples() {
    }

    /** A receive buffer mapped, written by the device, synced, unmapped: no object per call. */
    public static int receive(DmaDevice device, ByteBuffer ring, int slot, LongConsumer deviceWrites) {
        // region:primitive-single
        int offset = slot * 2048;
        long dma = device.mapSingle(ring, offset, 2048, DmaDirection.FROM_DEVICE, 0);
        deviceWrites.accept(dma);                        // the device writes the first 4 bytes
        if (device.needSync(dma)) {                      // false for a coherent device's direct mapping
            device.syncSingleForCpu(dma, 4, DmaDirection.FROM_DEVICE);   // only what it wrote
        }
        int first = ring.getInt(offset);
        device.unmapSingle(dma, 2048, DmaDirection.FROM_DEVICE, DmaAttr.flags(DmaAttr.SKIP_CPU_SYNC));
        return first;
        // endregion:primitive-single
    }

    /** Several buffers into arrays the driver keeps: {@code dma_map_sg()} with no list object. */
    public static long scatter(DmaDevice device, ByteBuffer[] segments, long[] dma, int[] lengths) {
        // region:primitive-sg
        int n = device.mapSg(segments, segments.length, DmaDirection.TO_DEVICE, 0, dma);
        for (int i = 0; i < n; i++) {
            lengths[i] = segments[i].remaining();       // unmapSg takes the lengths mapped
        }
        long first = dma[0];                             // one descriptor per segment
        device.unmapSg(dma, lengths, n, DmaDirection.TO_DEVICE, 0);
        return first;
        // endregion:primitive-sg
    }
}
