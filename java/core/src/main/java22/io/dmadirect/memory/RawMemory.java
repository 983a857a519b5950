package io.dmadirect.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * Raw access to memory by CPU address, on JDK 22+ through the foreign memory API instead of
 * {@code sun.misc.Unsafe}, whose memory methods JDK 24+ warns about (JEP 471, JEP 498). This class replaces
 * the JDK 17 one in {@code META-INF/versions/22} of the multi-release jar, with the same methods.
 *
 * <p>One segment spans the whole address space ({@link #EVERYTHING}), held in a {@code static final} field
 * so that the JIT treats it as a constant and each access compiles to a plain load or store; making a
 * segment per call would cost an allocation where escape analysis fails. {@code reinterpret} is a
 * restricted method: like JNA's {@code System.load}, it needs {@code --enable-native-access} (the
 * command's jar says so in its manifest) or JDK 24+ prints one warning.
 */
public final class RawMemory {
    private static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private RawMemory() {
    }

    /** Which implementation this JVM runs: {@code "foreign memory API"} here, {@code "sun.misc.Unsafe"} on JDK 17-21. */
    public static String implementation() {
        return "foreign memory API";
    }

    /** Sets {@code size} bytes at {@code address} to {@code value}. */
    public static void fill(long address, long size, byte value) {
        EVERYTHING.asSlice(address, size).fill(value);
    }

    /** Copies {@code size} bytes between CPU addresses; the ranges may not overlap. */
    public static void copy(long from, long to, long size) {
        MemorySegment.copy(EVERYTHING, from, EVERYTHING, to, size);
    }

    /** Copies from a heap array into memory at {@code to}. */
    public static void copyFromArray(byte[] array, int offset, long to, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, array.length);
        MemorySegment.copy(array, offset, EVERYTHING, ValueLayout.JAVA_BYTE, to, length);
    }

    /** Copies from memory at {@code from} into a heap array. */
    public static void copyToArray(long from, byte[] array, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, array.length);
        MemorySegment.copy(EVERYTHING, ValueLayout.JAVA_BYTE, from, array, offset, length);
    }

    public static byte getByte(long address) {
        return EVERYTHING.get(ValueLayout.JAVA_BYTE, address);
    }

    public static void putByte(long address, byte value) {
        EVERYTHING.set(ValueLayout.JAVA_BYTE, address, value);
    }

    /** The CPU address of a direct buffer's first byte (position 0). */
    public static long addressOf(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("failed to take the address of a heap ByteBuffer: only direct buffers have one");
        }
        // ofBuffer starts at the position; the address of position 0 is what callers mean.
        return MemorySegment.ofBuffer(direct).address() - direct.position();
    }
}
