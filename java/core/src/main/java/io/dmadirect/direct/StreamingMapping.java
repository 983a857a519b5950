package io.dmadirect.direct;

import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.swiotlb.Swiotlb;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One streaming mapping: the addresses fixed at map time and a mapped/unmapped state changed by
 * compare-and-set, so that a double unmap is caught even when two threads race to unmap.
 *
 * <p>It is the one object a map through the object API makes, so it holds only what the unmap and the
 * syncs cannot find elsewhere, in 48 bytes (issue 18's target): a bounce's original, array offset and bounce
 * buffer are recorded in its slots ({@code io_tlb_slot}), so a bounced mapping keeps only its handle, and a
 * direct one only its CPU address, in the same field ({@link #where}).
 */
final class StreamingMapping implements DmaMapping {
    private static final VarHandle STATE;
    private static final byte MAPPED = 0;
    private static final byte UNMAPPED = 1;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(StreamingMapping.class, "state", byte.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final StreamingMapper mapper;
    private final long dmaAddress;
    /** A bounced mapping's {@link Swiotlb} handle, or a direct mapping's CPU address: see {@link #bounced}. */
    private final long where;
    private final int size;
    final DmaDirection direction;
    /** The buffer or array mapped: the memory must not be freed while the device may use it. */
    final Object keepAlive;
    private final boolean bounced;
    @SuppressWarnings("unused") // accessed through STATE
    private volatile byte state;

    StreamingMapping(StreamingMapper mapper, long dmaAddress, int size, DmaDirection direction, Object keepAlive,
            long where, boolean bounced) {
        this.mapper = mapper;
        this.dmaAddress = dmaAddress;
        this.size = size;
        this.direction = direction;
        this.keepAlive = keepAlive;
        this.where = where;
        this.bounced = bounced;
    }

    /** A direct mapping of {@code size} bytes at CPU address {@code cpu}. */
    static StreamingMapping direct(StreamingMapper mapper, long dmaAddress, int size, DmaDirection direction,
            Object keepAlive, long cpu) {
        return new StreamingMapping(mapper, dmaAddress, size, direction, keepAlive, cpu, false);
    }

    /** A bounced mapping held by the bounce pool's {@code tlbHandle}. */
    static StreamingMapping bounced(StreamingMapper mapper, long dmaAddress, int size, DmaDirection direction,
            Object keepAlive, long tlbHandle) {
        return new StreamingMapping(mapper, dmaAddress, size, direction, keepAlive, tlbHandle, true);
    }

    /** The bounce buffer's {@link Swiotlb} handle, {@link Swiotlb#NONE} for a direct mapping. */
    long tlbHandle() {
        return bounced ? where : Swiotlb.NONE;
    }

    /** Marks the mapping unmapped; false when it already was. */
    boolean markUnmapped() {
        return STATE.compareAndSet(this, MAPPED, UNMAPPED);
    }

    /** The CPU address the device's data passes through: the bounce buffer, or the memory itself. */
    long deviceSideCpu() {
        return bounced ? mapper.platform.swiotlb.cpuAddress(where) : where;
    }

    @Override
    public DmaDevice device() {
        return mapper.device;
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
    public DmaDirection direction() {
        return direction;
    }

    @Override
    public boolean isBounced() {
        return bounced;
    }

    /**
     * Whether this mapping itself was unmapped (or released by its device's close): the state the
     * library's own checks read, since an operation admitted before close must not see the device's
     * closing as an unmap.
     */
    boolean isReleased() {
        return (byte) STATE.getVolatile(this) == UNMAPPED;
    }

    /** True once unmapped, or once its device closed: close released every mapping, direct ones included. */
    @Override
    public boolean isUnmapped() {
        return (byte) STATE.getVolatile(this) == UNMAPPED || mapper.device.isClosed();
    }

    /** {@link DmaMapping#close()}: unmaps with no attributes, or does nothing once the device is closed. */
    @Override
    public void close() {
        mapper.device.closeMapping(this, 0);
    }

    /**
     * {@link DmaMapping#closeWith(DmaAttr...)}: unmaps with the attributes given, or does nothing once the device is
     * closed. Not delegated to {@link #close()}, so the agent's DMA-API debug sees one call per unmap.
     */
    @Override
    public void closeWith(DmaAttr... attrs) {
        mapper.device.closeMapping(this, DmaAttr.flags(attrs));
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
        return "DmaMapping[" + mapper.device.name() + ", dma 0x" + Long.toHexString(dmaAddress) + ", " + size + " B, "
                + direction + (isBounced() ? ", bounced" : ", direct") + (isReleased() ? ", unmapped" : "") + "]";
    }
}
