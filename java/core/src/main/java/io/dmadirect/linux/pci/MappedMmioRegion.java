package io.dmadirect.linux.pci;

import io.dmadirect.pci.MmioRegion;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A BAR mapped into this process: each access is one load or store of its width through a
 * {@link VarHandle} on the mapped buffer, with volatile semantics so accesses are neither merged,
 * torn, reordered nor hoisted, as the kernel's {@code readl()}/{@code writel()} guarantee. No native
 * call per register.
 */
public final class MappedMmioRegion implements MmioRegion {
    private static final VarHandle I16 = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int index;
    private final ByteBuffer registers;
    private final Runnable unmap;
    private final OptionalLong cpuAddress;
    private volatile boolean closed;

    /**
     * @param registers a direct buffer over the mapping (its whole capacity is the region)
     * @param unmap     what releases the mapping, run by {@link #unmap()}
     */
    public MappedMmioRegion(int index, ByteBuffer registers, Runnable unmap) {
        this(index, registers, unmap, OptionalLong.empty());
    }

    /**
     * @param cpuAddress where the mapping lies in this process, for mapping the BAR into an IOMMU
     *                   ({@link #cpuAddress()})
     */
    public MappedMmioRegion(int index, ByteBuffer registers, Runnable unmap, long cpuAddress) {
        this(index, registers, unmap, OptionalLong.of(cpuAddress));
    }

    private MappedMmioRegion(int index, ByteBuffer registers, Runnable unmap, OptionalLong cpuAddress) {
        this.index = index;
        this.registers = Objects.requireNonNull(registers).duplicate().clear();
        this.unmap = unmap;
        this.cpuAddress = cpuAddress;
    }

    /** Empty once unmapped: the address then holds anonymous memory, not the BAR. */
    @Override
    public OptionalLong cpuAddress() {
        return closed ? OptionalLong.empty() : cpuAddress;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public long size() {
        return registers.capacity();
    }

    @Override
    public boolean mapped() {
        return true;
    }

    @Override
    public int read8(long offset) {
        // Byte accesses are single-copy atomic; the fence orders them like the wider accesses.
        VarHandle.fullFence();
        return registers.get(check(offset, 1)) & 0xff;
    }

    @Override
    public int read16(long offset) {
        return (short) I16.getVolatile(registers, check(offset, 2)) & 0xffff;
    }

    @Override
    public int read32(long offset) {
        return (int) I32.getVolatile(registers, check(offset, 4));
    }

    @Override
    public long read64(long offset) {
        return (long) I64.getVolatile(registers, check(offset, 8));
    }

    @Override
    public void write8(long offset, int value) {
        registers.put(check(offset, 1), (byte) value);
        VarHandle.fullFence();
    }

    @Override
    public void write16(long offset, int value) {
        I16.setVolatile(registers, check(offset, 2), (short) value);
    }

    @Override
    public void write32(long offset, int value) {
        I32.setVolatile(registers, check(offset, 4), value);
    }

    @Override
    public void write64(long offset, long value) {
        I64.setVolatile(registers, check(offset, 8), value);
    }

    /** Releases the mapping; later accesses throw. */
    public void unmap() {
        if (!closed) {
            closed = true;
            unmap.run();
        }
    }

    private int check(long offset, int width) {
        if (closed) {
            throw new io.dmadirect.DmaUsageException("failed to access BAR" + index + ": it is unmapped (its session or device was closed)");
        }
        if (offset < 0 || offset > registers.capacity() - width || (offset & (width - 1)) != 0) {
            throw new IndexOutOfBoundsException("BAR" + index + " access of " + width + " bytes at 0x"
                    + Long.toHexString(offset) + ": outside the region of " + registers.capacity()
                    + " bytes or not naturally aligned");
        }
        return (int) offset;
    }

    @Override
    public String toString() {
        return "BAR" + index + "[mapped, " + registers.capacity() + " bytes]";
    }
}
