package io.dmadirect.direct;

import io.dmadirect.AllocationPath;
import io.dmadirect.AllocationReport;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Zone;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One coherent allocation. It holds the allocator's handle, the DMA address computed at allocation, and
 * a live/freed state changed by compare-and-set, so a double free is caught even when two threads race
 * to free.
 *
 * <p>The DMA address is the only address a caller passes in. The physical and CPU addresses are not
 * copied in at all: the backing gives them by handle ({@link BufferBacking#physAddress},
 * {@link BufferBacking#cpuView}) on the rare paths that need them (making decrypted memory private again
 * on free, a CPU view). So no caller can swap the physical, CPU and DMA addresses, which are all
 * {@code long}s, and the buffer costs no extra object per allocation (a {@code record} of the three
 * addresses would be one, unless escape analysis removed it) and two fields fewer than before.
 */
final class CoherentBuffer implements DmaBuffer {
    private static final VarHandle STATE;
    private static final int LIVE = 0;
    private static final int FREED = 1;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CoherentBuffer.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final DirectDevice device;
    final BufferBacking backing;
    final long handle;
    private final long dmaAddress;
    private final long size;
    private final long allocatedSize;
    private final Zone zone;
    private final Zone optimalZone;
    private final AllocationPath path;
    private final List<String> steps;
    final boolean cpuMapped;
    /** The memory was made shared with {@code dma_set_decrypted()} and must be made private on free. */
    final boolean decrypted;
    /**
     * Null for memory of {@code dma_alloc_attrs()}; for memory of {@code dma_alloc_pages()} (wrapped in a
     * {@link PagesBuffer}, which is what the caller holds), the direction its syncs use.
     */
    final DmaDirection pagesDirection;
    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;

    /**
     * @param handle        the {@code backing}'s handle of the allocation
     * @param dmaAddress    what the device is given: the policy's {@code phys_to_dma()} of the memory
     * @param size          bytes asked for
     * @param allocatedSize bytes the backing holds for it (at least {@code size})
     */
    CoherentBuffer(DirectDevice device, BufferBacking backing, long handle, long dmaAddress, long size,
            long allocatedSize, Zone zone, Zone optimalZone, AllocationPath path, List<String> steps,
            boolean cpuMapped, boolean decrypted, DmaDirection pagesDirection) {
        this.device = device;
        this.backing = backing;
        this.handle = handle;
        this.dmaAddress = dmaAddress;
        this.size = size;
        this.allocatedSize = allocatedSize;
        this.zone = zone;
        this.optimalZone = optimalZone;
        this.path = path;
        this.steps = steps;
        this.cpuMapped = cpuMapped;
        this.decrypted = decrypted;
        this.pagesDirection = pagesDirection;
    }

    /** The physical address, from the backing: only while the buffer is live. */
    long physAddress() {
        return backing.physAddress(handle);
    }

    /** Marks the buffer freed; false when it already was. */
    boolean markFreed() {
        return STATE.compareAndSet(this, LIVE, FREED);
    }

    @Override
    public DmaDevice device() {
        return device;
    }

    @Override
    public long dmaAddress() {
        return dmaAddress;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long allocatedSize() {
        return allocatedSize;
    }

    @Override
    public Zone zone() {
        return zone;
    }

    @Override
    public AllocationPath path() {
        return path;
    }

    @Override
    public AllocationReport report() {
        return new AllocationReport(optimalZone, zone, path, steps);
    }

    @Override
    public boolean hasCpuView() {
        return cpuMapped;
    }

    @Override
    public ByteBuffer cpuView() {
        if (!cpuMapped) {
            throw new DmaUsageException("failed to give a CPU view of " + this
                    + ": it was allocated with NO_KERNEL_MAPPING, so the CPU has no mapping of it");
        }
        if (size > Integer.MAX_VALUE) {
            throw new DmaUsageException("failed to give a CPU view of " + this
                    + ": a ByteBuffer holds at most 2 GiB - 1 bytes");
        }
        return device.cpuView(this);
    }

    @Override
    public boolean isFreed() {
        return (int) STATE.getVolatile(this) == FREED;
    }

    /**
     * Frees through {@link DirectDevice#freeCoherent} (the public path, which the agent's DMA-API debug
     * watches), but quietly does nothing when the device is closed or closes meanwhile: its close freed
     * the buffer.
     */
    @Override
    public void close() {
        if (device.isClosed()) {
            return;
        }
        try {
            device.freeCoherent(this);
        } catch (DmaUsageException e) {
            if (!device.isClosed()) {
                throw e;
            }
        }
    }

    /** Identity equality with an address-derived hash: see {@link AddressHash}. */
    @Override
    public int hashCode() {
        return AddressHash.of(dmaAddress);
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public String toString() {
        return (pagesDirection == null ? "DmaBuffer[" : "NoncoherentBuffer[" + pagesDirection + ", ") + device.name() + ", dma 0x" + Long.toHexString(dmaAddress) + ", " + size + " B, " + path
                + " from " + zone + (isFreed() ? ", freed" : "") + "]";
    }
}
