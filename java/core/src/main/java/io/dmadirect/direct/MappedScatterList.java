package io.dmadirect.direct;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.ScatterList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** The segments of one {@code dma_map_sg()}, unmapped together by {@code dma_unmap_sg()}. */
final class MappedScatterList implements ScatterList {
    private final DirectDevice device;
    private final List<DmaMapping> segments;
    private final DmaDirection direction;
    private final AtomicBoolean unmapped = new AtomicBoolean();

    MappedScatterList(DirectDevice device, List<DmaMapping> segments, DmaDirection direction) {
        this.device = device;
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

    /** True once unmapped, or once the device closed (which released every segment). */
    @Override
    public boolean isUnmapped() {
        return unmapped.get() || device.isClosed();
    }

    /** Marks the list unmapped; false when it already was. */
    boolean markUnmapped() {
        return unmapped.compareAndSet(false, true);
    }

    /** {@code dma_direct_unmap_sg()}; see {@link StreamingMapper#unmapSg}. A no-op once the device is closed. */
    @Override
    public void close() {
        device.closeScatterList(this, NO_ATTRS);
    }

    /** {@code dma_unmap_sg_attrs()}: as {@link #close()}, each segment unmapped with {@code attrs}. */
    @Override
    public void closeWith(DmaAttr... attrs) {
        device.closeScatterList(this, attrs.clone());
    }

    private static final DmaAttr[] NO_ATTRS = {};

    @Override
    public String toString() {
        return "ScatterList[" + segments.size() + " segments, " + totalSize() + " B, " + direction
                + (isUnmapped() ? ", unmapped" : "") + "]";
    }
}
