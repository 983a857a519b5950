package io.dmadirect.linux.hugepages;

import io.dmadirect.Addresses;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.spi.MemoryRun;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * A run of hugepages contiguous physically and virtually, with views made on demand over the mapping.
 * A run of memory opened for an IOMMU is contiguous only virtually: its physical base is unknown
 * ({@link Addresses#NONE}), and asking for it is a usage error, since handing a device a made-up physical
 * address would send its DMA somewhere else.
 */
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

    /**
     * The physical address of the first byte (this memory is the PA-mode side of {@link MemoryRun#frameBase()}).
     *
     * @throws DmaUsageException for memory opened for an IOMMU, which has none
     */
    @Override
    public long frameBase() {
        if (physBase == Addresses.NONE) {
            throw new DmaUsageException("failed to give the physical address of hugepage memory at "
                    + Sizes.hex(cpuAddress) + ": it was opened for IOVA mode (HugepageMemory.openForIommu), which "
                    + "does not read pagemap; map it through an IOMMU with IovaMemory, whose runs carry IOVAs, or "
                    + "open it with HugepageMemory.open as root for PA mode");
        }
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
            throw new DmaUsageException("failed to view hugepage memory at cpu " + Sizes.hex(cpuAddress)
                    + ": it was closed; nothing may use its runs afterwards");
        }
        return sys.directView(cpuAddress + offset, length);
    }

    @Override
    public String toString() {
        return "HugepageRun[phys " + (physBase == Addresses.NONE ? "not read" : Sizes.hex(physBase)) + ", "
                + Sizes.format(size) + ", cpu " + Sizes.hex(cpuAddress) + "]";
    }
}
