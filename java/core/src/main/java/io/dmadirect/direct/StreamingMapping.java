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
 * <p>The original memory is either raw ({@link #origCpu}, a direct buffer kept reachable by
 * {@link #keepAlive}) or a heap array ({@link #array} at {@link #arrayOffset}).
 */
final class StreamingMapping implements DmaMapping {
    private static final VarHandle STATE;
    private static final int MAPPED = 0;
    private static final int UNMAPPED = 1;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(StreamingMapping.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final StreamingMapper mapper;
    private final long dmaAddress;
    final long size;
    final DmaDirection direction;
    /** The buffer or array mapped: the memory must not be freed while the device may use it. */
    final Object keepAlive;
    final byte[] array;
    final int arrayOffset;
    final long origCpu;
    /** The bounce buffer's {@link Swiotlb} handle, {@link Swiotlb#NONE} for a direct mapping. */
    final long tlbHandle;
    final long tlbCpu;
    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;

    StreamingMapping(StreamingMapper mapper, long dmaAddress, long size, DmaDirection direction, Object keepAlive, byte[] array, int arrayOffset, long origCpu, long tlbHandle, long tlbCpu) {
        this.mapper = mapper;
        this.dmaAddress = dmaAddress;
        this.size = size;
        this.direction = direction;
        this.keepAlive = keepAlive;
        this.array = array;
        this.arrayOffset = arrayOffset;
        this.origCpu = origCpu;
        this.tlbHandle = tlbHandle;
        this.tlbCpu = tlbCpu;
    }

    /** Marks the mapping unmapped; false when it already was. */
    boolean markUnmapped() {
        return STATE.compareAndSet(this, MAPPED, UNMAPPED);
    }

    /** The CPU address the device's data passes through: the bounce buffer, or the memory itself. */
    long deviceSideCpu() {
        return tlbHandle == Swiotlb.NONE ? origCpu : tlbCpu;
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
        return tlbHandle != Swiotlb.NONE;
    }

    /**
     * Whether this mapping itself was unmapped (or released by its device's close): the state the
     * library's own checks read, since an operation admitted before close must not see the device's
     * closing as an unmap.
     */
    boolean isReleased() {
        return (int) STATE.getVolatile(this) == UNMAPPED;
    }

    /** True once unmapped, or once its device closed: close released every mapping, direct ones included. */
    @Override
    public boolean isUnmapped() {
        return (int) STATE.getVolatile(this) == UNMAPPED || mapper.device.isClosed();
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
