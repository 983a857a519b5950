package io.dmadirect.agent;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * Where the bytes a driver maps live, for the cache-line index of {@link ActiveCacheLines}: a direct buffer's
 * CPU address (read from {@code Buffer.address}, which the library reads the same way), or a heap buffer's
 * array and index. The kernel indexes by physical address; a heap array has none the agent can see, so its
 * lines are told apart by the array's identity instead.
 */
final class BufferMemory {
    private static final Unsafe UNSAFE = unsafe();
    private static final long ADDRESS = addressOffset();

    private BufferMemory() {
    }

    /** The array of a heap buffer, or null for a direct one (and for one whose array is hidden: read-only). */
    static Object base(ByteBuffer buffer) {
        return buffer.isDirect() || !buffer.hasArray() ? null : buffer.array();
    }

    /** Byte {@code index} of {@code buffer}: a CPU address for a direct buffer, an array index for a heap one; -1 when unknown. */
    static long start(ByteBuffer buffer, long index) {
        if (buffer.isDirect()) {
            return UNSAFE == null || ADDRESS < 0 ? -1 : UNSAFE.getLong(buffer, ADDRESS) + index;
        }
        return buffer.hasArray() ? buffer.arrayOffset() + index : -1;
    }

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // the overlap check is then off for direct buffers; nothing else needs it
        }
    }

    @SuppressWarnings("deprecation") // objectFieldOffset: the library reads Buffer.address the same way
    private static long addressOffset() {
        try {
            return UNSAFE == null ? -1 : UNSAFE.objectFieldOffset(Buffer.class.getDeclaredField("address"));
        } catch (NoSuchFieldException | RuntimeException e) {
            return -1;
        }
    }
}
