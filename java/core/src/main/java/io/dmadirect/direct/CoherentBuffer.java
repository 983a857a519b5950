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

/**
 * One coherent allocation. It holds the allocator's handle, the DMA address computed at allocation, and
 * a live/freed state changed by compare-and-set, so a double free is caught even when two threads race
 * to free.
 *
 * <p>The DMA address is the only address a caller passes in. The physical and CPU addresses are not
 * copied in at all: the backing gives them by handle ({@link BufferBacking#physAddress},
 * {@link BufferBacking#cpuView}) on the rare paths that need them (making decrypted memory private again
 * on free, a CPU view). So no caller can swap the physical, CPU and DMA addresses, which are all
 * {@code long}s.
 *
 * <p>It is the one object an allocation makes (issue 18), so it is kept to 48 bytes (a 12-byte header, three
 * {@code long}s and three 4-byte fields): the small facts (which backing, zone, optimal zone, path, CPU mapping,
 * decryption, the pages direction) are packed into one final {@code int} ({@link BufferFacts}); the allocated
 * size is the backing's, by handle; and the fallback steps, which only an allocation that fell back has, are
 * kept by the device beside the buffer ({@link DirectDevice#stepsOf}) rather than in a field of every buffer.
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
    final long handle;
    private final long dmaAddress;
    private final long size;
    /** {@link BufferFacts} bits: final, so a thread that finds the buffer through an owner slot reads them whole. */
    private final int facts;
    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;

    /**
     * @param handle     the backing's handle of the allocation
     * @param dmaAddress what the device is given: the policy's {@code phys_to_dma()} of the memory
     * @param size       bytes asked for
     * @param facts      the rest, packed by {@link BufferFacts#of}
     */
    CoherentBuffer(DirectDevice device, long handle, long dmaAddress, long size, int facts) {
        this.device = device;
        this.handle = handle;
        this.dmaAddress = dmaAddress;
        this.size = size;
        this.facts = facts;
    }

    /** Where the memory lives: the device's page, pool or bounce-pool backing. */
    BufferBacking backing() {
        return device.backing(BufferFacts.backing(facts));
    }

    /** Whether the CPU has a mapping of the memory (not {@code NO_KERNEL_MAPPING}). */
    boolean cpuMapped() {
        return BufferFacts.cpuMapped(facts);
    }

    /** The memory was made shared with {@code dma_set_decrypted()} and must be made private on free. */
    boolean decrypted() {
        return BufferFacts.decrypted(facts);
    }

    /** Whether the allocation fell back, so that the device keeps its steps. */
    boolean hasSteps() {
        return BufferFacts.hasSteps(facts);
    }

    /**
     * Null for memory of {@code dma_alloc_attrs()}; for memory of {@code dma_alloc_pages()} (wrapped in a
     * {@link PagesBuffer}, which is what the caller holds), the direction its syncs use.
     */
    DmaDirection pagesDirection() {
        return BufferFacts.pagesDirection(facts);
    }

    /** The physical address, from the backing: only while the buffer is live. */
    long physAddress() {
        return backing().physAddress(handle);
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
        return backing().byteSize(handle, size);
    }

    @Override
    public Zone zone() {
        return BufferFacts.zone(facts);
    }

    @Override
    public AllocationPath path() {
        return BufferFacts.path(facts);
    }

    @Override
    public AllocationReport report() {
        // Issue 21: the node of the buffer's first byte, when the memory knows it (not kept per buffer: the lookup is
        // done here, off the allocation path). A freed buffer's handle no longer names its memory.
        java.util.OptionalInt node = java.util.OptionalInt.empty();
        java.util.OptionalInt preferred = java.util.OptionalInt.empty();
        if (!isFreed()) {
            io.dmadirect.spi.PhysicalMemory memory = device.physicalMemory();
            node = memory.numaNodeOf(backing().cpuAddress(handle));
            preferred = node.isPresent() ? memory.preferredNumaNode() : preferred;
        }
        return new AllocationReport(BufferFacts.optimalZone(facts), zone(), path(), device.stepsOf(this), node,
                preferred);
    }

    @Override
    public boolean hasCpuView() {
        return cpuMapped();
    }

    @Override
    public ByteBuffer cpuView() {
        if (!cpuMapped()) {
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
        DmaDirection pagesDirection = pagesDirection();
        return (pagesDirection == null ? "DmaBuffer[" : "NoncoherentBuffer[" + pagesDirection + ", ") + device.name()
                + ", dma 0x" + Long.toHexString(dmaAddress) + ", " + size + " B, " + path() + " from " + zone()
                + (isFreed() ? ", freed" : "") + "]";
    }
}
