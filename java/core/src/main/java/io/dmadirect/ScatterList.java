package io.dmadirect;

import java.util.List;

/**
 * Many buffers mapped at once by {@link DmaDevice#mapSg}: what {@code dma_map_sg()} leaves in a
 * {@code struct sg_table}, one segment per buffer, in the order given. Each segment is direct or bounced
 * on its own. Closing the list unmaps every segment ({@code dma_unmap_sg()}).
 */
public interface ScatterList extends AutoCloseable {

    /** {@return the segments, one per buffer given, each with its DMA address and length} */
    List<DmaMapping> segments();

    /** {@return the number of segments} */
    default int count() {
        return segments().size();
    }

    /**
     * {@return one segment}
     *
     * @param index from 0 to {@code count() - 1}
     */
    default DmaMapping segment(int index) {
        return segments().get(index);
    }

    /** {@return the sum of the segments' sizes} */
    default long totalSize() {
        long total = 0;
        for (DmaMapping segment : segments()) {
            total += segment.size();
        }
        return total;
    }

    /** {@return the direction all segments were mapped with} */
    DmaDirection direction();

    /** {@code dma_sync_sg_for_cpu()}: every segment. */
    default void syncForCpu() {
        for (DmaMapping segment : segments()) {
            segment.syncForCpu();
        }
    }

    /** {@code dma_sync_sg_for_device()}: every segment. */
    default void syncForDevice() {
        for (DmaMapping segment : segments()) {
            segment.syncForDevice();
        }
    }

    /** {@return whether the list has been unmapped} */
    boolean isUnmapped();

    /** {@code dma_unmap_sg()}: unmaps every segment; a second call throws {@link DmaUsageException}. */
    @Override
    void close();
}
