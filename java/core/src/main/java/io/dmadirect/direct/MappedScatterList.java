package io.dmadirect.direct;

import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaUsageException;
import io.dmadirect.ScatterList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** The segments of one {@code dma_map_sg()}, unmapped together by {@code dma_unmap_sg()}. */
final class MappedScatterList implements ScatterList {
    private final List<DmaMapping> segments;
    private final DmaDirection direction;
    private final AtomicBoolean unmapped = new AtomicBoolean();

    MappedScatterList(List<DmaMapping> segments, DmaDirection direction) {
        this.segments = List.copyOf(segments);
        this.direction = direction;
    }

    @Override
    public List<DmaMapping> segments() {
        return segments;
    }

    @Override
    public DmaDirection direction() {
        return direction;
    }

    @Override
    public boolean isUnmapped() {
        return unmapped.get();
    }

    /** {@code dma_direct_unmap_sg()}. */
    @Override
    public void close() {
        if (!unmapped.compareAndSet(false, true)) {
            throw new DmaUsageException("failed to unmap a scatter list of " + segments.size()
                    + " segments: it was already unmapped (double unmap)");
        }
        for (DmaMapping segment : segments) {
            segment.close();
        }
    }

    @Override
    public String toString() {
        return "ScatterList[" + segments.size() + " segments, " + totalSize() + " B, " + direction
                + (isUnmapped() ? ", unmapped" : "") + "]";
    }
}
