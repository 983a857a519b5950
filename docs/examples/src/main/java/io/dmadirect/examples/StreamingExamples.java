package io.dmadirect.examples;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.ScatterList;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.LongConsumer;

/** The guide's streaming examples: the three directions, heap arrays and scatter lists. */
public final class StreamingExamples {
    private StreamingExamples() {
    }

    /** A command the device reads: TO_DEVICE. Returns whether the mapping bounced. */
    public static boolean toDevice(DmaDevice device, ByteBuffer command) {
        // region:to-device
        // The CPU has written the command; the device reads it.
        try (DmaMapping mapping = device.map(command, DmaDirection.TO_DEVICE)) {
            long dma = mapping.dmaAddress();    // hand this to the device, start it, wait for it
            return mapping.isBounced();         // true when the memory was not reachable DMA memory
        }                                       // close() is dma_unmap_single()
        // endregion:to-device
    }

    /** A buffer the device fills: FROM_DEVICE, with a look at the data before unmap. */
    public static int fromDevice(DmaDevice device, ByteBuffer receive, LongConsumer deviceWrites) {
        // region:from-device
        try (DmaMapping mapping = device.map(receive, DmaDirection.FROM_DEVICE)) {
            deviceWrites.accept(mapping.dmaAddress());   // the device writes there
            mapping.syncForCpu();               // dma_sync_single_for_cpu(): copy back if bounced
            int first = receive.getInt(receive.position());
            mapping.syncForDevice();            // give the buffer back to the device
            return first;
        }                                       // unmap copies back once more, if bounced
        // endregion:from-device
    }

    /**
     * Sync at map, skip at unmap: the driver syncs the bytes the device wrote and unmaps with
     * {@code SKIP_CPU_SYNC}, as {@code dma_unmap_single_attrs()} lets it.
     */
    public static int syncThenSkipAtUnmap(DmaDevice device, ByteBuffer receive, LongConsumer deviceWrites) {
        // region:unmap-attrs
        DmaMapping mapping = device.map(receive, DmaDirection.FROM_DEVICE);
        deviceWrites.accept(mapping.dmaAddress());      // the device writes the first 4 bytes
        mapping.syncForCpu(0, 4);                       // only what it wrote
        int first = receive.getInt(receive.position());
        mapping.closeWith(DmaAttr.SKIP_CPU_SYNC);       // dma_unmap_single_attrs(): synced already
        return first;
        // endregion:unmap-attrs
    }

    /** A heap array always bounces, because the collector moves it. */
    public static boolean heapArray(DmaDevice device) {
        // region:heap-array
        byte[] block = new byte[4096];
        try (DmaMapping mapping = device.map(block, 0, block.length, DmaDirection.BIDIRECTIONAL)) {
            return mapping.isBounced();         // always true for byte[]
        }
        // endregion:heap-array
    }

    /** Several buffers at once: {@code dma_map_sg()}. */
    public static long scatterList(DmaDevice device, ByteBuffer header, ByteBuffer payload) {
        // region:scatter-list
        try (ScatterList sg = device.mapSg(List.of(header, payload), DmaDirection.TO_DEVICE)) {
            for (DmaMapping segment : sg.segments()) {
                long dma = segment.dmaAddress();    // one descriptor per segment
            }
            return sg.totalSize();
        }
        // endregion:scatter-list
    }
}
