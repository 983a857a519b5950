package io.dmadirect;

import java.util.List;

/**
 * Many buffers mapped at once by {@link DmaDevice#mapSg}: what {@code dma_map_sg()} leaves in a
 * {@code struct sg_table}, one segment per buffer, in the order given. Each segment is direct or bounced
 * on its own. Closing the list unmaps every segment ({@code dma_unmap_sg()}).
 *
 * <p>The list is unmapped whole, never by segment. Should a segment have been unmapped on its own (a
 * driver bug), {@link #close()} still releases every other segment and then reports the misuse with
 * {@link DmaUsageException}; nothing stays mapped. When the device or platform closes, the list is
 * released with it: {@link #isUnmapped()} turns true and {@link #close()} is a quiet no-op.
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

    /**
     * {@code dma_unmap_sg()}: unmaps every segment still mapped; a second call throws
     * {@link DmaUsageException}, as does a list with a segment unmapped on its own (after the others were
     * released). A quiet no-op once the device or platform is closed.
     */
    @Override
    void close();

    /**
     * {@code dma_unmap_sg_attrs()}: as {@link #close()}, each segment unmapped with {@code attrs} (see
     * {@link DmaMapping#closeWith(DmaAttr...)}).
     *
     * @param attrs {@link DmaAttr#SKIP_CPU_SYNC}, or none
     */
    void closeWith(DmaAttr... attrs);
}
