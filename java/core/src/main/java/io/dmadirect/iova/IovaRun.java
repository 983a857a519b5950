package io.dmadirect.iova;

import io.dmadirect.Sizes;
import io.dmadirect.spi.MemoryRun;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * A piece of pinned memory as the device sees it through the IOMMU: its {@link #frameBase()} is the IOVA.
 * The bytes may come from several source runs that are adjacent in the CPU's view.
 */
final class IovaRun implements MemoryRun {
    /** Part of a source run inside this run: {@code [offset, offset + size)} of this run is {@code run}'s {@code [sourceOffset, ...)}. */
    record Part(MemoryRun run, long sourceOffset, long offset, long size) {
    }

    private final long iova;
    private final long size;
    private final long cpuAddress;
    private final List<Part> parts;
    private final CpuViews views;

    IovaRun(long iova, long size, long cpuAddress, List<Part> parts, CpuViews views) {
        this.iova = iova;
        this.size = size;
        this.cpuAddress = cpuAddress;
        this.parts = List.copyOf(parts);
        this.views = views;
    }

    @Override
    public long frameBase() {
        return iova;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long cpuAddress() {
        return cpuAddress;
    }

    @Override
    public ByteBuffer cpuView(long offset, int length) {
        Objects.checkFromIndexSize(offset, length, size);
        for (Part p : parts) {
            if (offset >= p.offset() && offset + length <= p.offset() + p.size()) {
                return p.run().cpuView(p.sourceOffset() + offset - p.offset(), length);
            }
        }
        // Spans source runs: only made when the pieces are adjacent in the CPU's view and views exist.
        return views.view(cpuAddress + offset, length);
    }

    @Override
    public String toString() {
        return "IovaRun[iova " + Sizes.hex(iova) + ", " + Sizes.format(size) + ", cpu " + Sizes.hex(cpuAddress) + "]";
    }
}
