package io.dmadirect.direct;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaSegment;
import io.dmadirect.DmaUsageException;
import io.dmadirect.NoncontiguousBuffer;
import io.dmadirect.Zone;
import io.dmadirect.memory.PageAllocator;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What {@code dma_alloc_pages()} and {@code dma_alloc_noncontiguous()} hand the caller: the allocation itself is a
 * {@link CoherentBuffer} (so the allocators, the reverse lookup, free and the device's close treat it as any
 * other, and a double free is caught by the same compare-and-set), wrapped with the direction its syncs use.
 * One class serves both calls; {@link #noncontiguous} records which one made it, so that each is freed only by
 * its own free call, as in the kernel.
 */
final class PagesBuffer implements NoncontiguousBuffer {
    final CoherentBuffer memory;
    /** Made by {@code dma_alloc_noncontiguous()}: freed by {@code dma_free_noncontiguous()} only. */
    final boolean noncontiguous;

    PagesBuffer(CoherentBuffer memory, boolean noncontiguous) {
        this.memory = memory;
        this.noncontiguous = noncontiguous;
    }

    @Override
    public DmaDevice device() {
        return memory.device;
    }

    @Override
    public long dmaAddress() {
        return memory.dmaAddress();
    }

    @Override
    public long size() {
        return memory.size();
    }

    @Override
    public long allocatedSize() {
        return memory.allocatedSize();
    }

    @Override
    public DmaDirection direction() {
        return memory.pagesDirection();
    }

    @Override
    public Zone zone() {
        return memory.zone();
    }

    @Override
    public AllocationPath path() {
        return memory.path();
    }

    @Override
    public AllocationReport report() {
        return memory.report();
    }

    /** {@code alloc_single_sgt()}: one segment of {@code PAGE_ALIGN(size)} bytes. */
    @Override
    public List<DmaSegment> segments() {
        return List.of(new DmaSegment(dmaAddress(), DmaDirect.pageAlign(size(), PageAllocator.PAGE_SIZE)));
    }

    @Override
    public ByteBuffer cpuView() {
        if (size() > Integer.MAX_VALUE) {
            throw new DmaUsageException("failed to give a CPU view of " + this + ": a ByteBuffer holds at most 2 GiB - 1 bytes");
        }
        return memory.device.cpuView(memory);
    }

    @Override
    public void syncForDevice(long offset, long length) {
        memory.device.syncPages(this, offset, length, true);
    }

    @Override
    public void syncForCpu(long offset, long length) {
        memory.device.syncPages(this, offset, length, false);
    }

    @Override
    public boolean isFreed() {
        return memory.isFreed();
    }

    /** Frees through the device's public free call; quietly nothing once the device's close freed it. */
    @Override
    public void close() {
        DirectDevice device = memory.device;
        if (device.isClosed()) {
            return;
        }
        try {
            if (noncontiguous) {
                device.freeNoncontiguous(this);
            } else {
                device.freePages(this);
            }
        } catch (DmaUsageException e) {
            if (!device.isClosed()) {
                throw e;
            }
        }
    }

    @Override
    public int hashCode() {
        return memory.hashCode();
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public String toString() {
        return memory.toString();
    }
}
