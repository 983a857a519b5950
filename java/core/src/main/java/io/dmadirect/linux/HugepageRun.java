package io.dmadirect.linux;

import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.spi.MemoryRun;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/** A run of hugepages contiguous physically and virtually, with views made on demand over the mapping. */
final class HugepageRun implements MemoryRun {
    private final long physBase;
    private final long size;
    private final long cpuAddress;
    private final Syscalls sys;
    private final BooleanSupplier closed;

    HugepageRun(long physBase, long size, long cpuAddress, Syscalls sys, BooleanSupplier closed) {
        this.physBase = physBase;
        this.size = size;
        this.cpuAddress = cpuAddress;
        this.sys = sys;
        this.closed = closed;
    }

    @Override
    public long physBase() {
        return physBase;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long cpuAddress() {
        return cpuAddress;
    }

    /** A new buffer each time: a run can exceed 2 GiB, which no single ByteBuffer can cover. */
    @Override
    public ByteBuffer cpuView(long offset, int length) {
        Objects.checkFromIndexSize(offset, length, size);
        if (closed.getAsBoolean()) {
            throw new DmaUsageException("failed to view hugepage memory at " + Sizes.hex(physBase)
                    + ": it was closed; nothing may use its runs afterwards");
        }
        return sys.directView(cpuAddress + offset, length);
    }

    @Override
    public String toString() {
        return "HugepageRun[phys " + Sizes.hex(physBase) + ", " + Sizes.format(size) + ", cpu "
                + Sizes.hex(cpuAddress) + "]";
    }
}
