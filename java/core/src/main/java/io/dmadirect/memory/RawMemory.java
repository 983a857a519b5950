package io.dmadirect.memory;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * Raw access to memory by CPU address: fill, copy, and the address behind a direct buffer, through
 * {@link Unsafe} held in a {@code static final} field so the JIT treats it as a constant (ixy.java measured
 * 3x slower access through a non-final field). This is the JDK 17-21 version; the multi-release jar carries a
 * JDK 22+ one on the foreign memory API ({@code src/main/java22}), since JDK 24+ warns about Unsafe's memory
 * methods.
 */
public final class RawMemory {
    private static final Unsafe UNSAFE = loadUnsafe();
    private static final long BUFFER_ADDRESS_OFFSET = addressFieldOffset();
    private static final long BYTE_ARRAY_BASE = UNSAFE.arrayBaseOffset(byte[].class);

    private RawMemory() {
    }

    /** Which implementation this JVM runs: {@code "sun.misc.Unsafe"} here, the foreign memory API on JDK 22+. */
    public static String implementation() {
        return "sun.misc.Unsafe";
    }

    /** Sets {@code size} bytes at {@code address} to {@code value}. */
    public static void fill(long address, long size, byte value) {
        UNSAFE.setMemory(address, size, value);
    }

    /** Copies {@code size} bytes between CPU addresses; the ranges may not overlap. */
    public static void copy(long from, long to, long size) {
        UNSAFE.copyMemory(from, to, size);
    }

    /** Copies from a heap array into memory at {@code to}. */
    public static void copyFromArray(byte[] array, int offset, long to, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, array.length);
        UNSAFE.copyMemory(array, BYTE_ARRAY_BASE + offset, null, to, length);
    }

    /** Copies from memory at {@code from} into a heap array. */
    public static void copyToArray(long from, byte[] array, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, array.length);
        UNSAFE.copyMemory(null, from, array, BYTE_ARRAY_BASE + offset, length);
    }

    public static byte getByte(long address) {
        return UNSAFE.getByte(address);
    }

    public static void putByte(long address, byte value) {
        UNSAFE.putByte(address, value);
    }

    /** The CPU address of a direct buffer's first byte (position 0). */
    public static long addressOf(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("failed to take the address of a heap ByteBuffer: only direct buffers have one");
        }
        return UNSAFE.getLong(direct, BUFFER_ADDRESS_OFFSET);
    }

    private static Unsafe loadUnsafe() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("failed to load sun.misc.Unsafe, which raw DMA memory access needs: " + e);
        }
    }

    private static long addressFieldOffset() {
        try {
            return UNSAFE.objectFieldOffset(Buffer.class.getDeclaredField("address"));
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError("failed to find java.nio.Buffer.address on this JDK: " + e);
        }
    }
}
