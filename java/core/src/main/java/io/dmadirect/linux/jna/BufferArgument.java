package io.dmadirect.linux.jna;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * The native address of a ByteBuffer's remaining bytes, for a call that takes a pointer. A direct
 * buffer is passed in place; a heap buffer is copied to native memory and back, and that memory is
 * freed on close.
 */
final class BufferArgument implements AutoCloseable {
    private final ByteBuffer buffer;
    private final Memory copy;
    private final long address;

    private BufferArgument(ByteBuffer buffer, Memory copy, long address) {
        this.buffer = buffer;
        this.copy = copy;
        this.address = address;
    }

    /** {@code copyIn}: whether the call reads the bytes (write, ioctl) and they must be copied for a heap buffer. */
    static BufferArgument of(ByteBuffer buffer, boolean copyIn) {
        int length = buffer.remaining();
        if (buffer.isDirect()) {
            long base = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));
            return new BufferArgument(buffer, null, base + buffer.position());
        }
        // Memory refuses size 0; one spare byte keeps empty buffers legal.
        Memory copy = new Memory(Math.max(length, 1));
        if (copyIn && length > 0) {
            byte[] bytes = new byte[length];
            buffer.duplicate().get(bytes);
            copy.write(0, bytes, 0, length);
        }
        return new BufferArgument(buffer, copy, Pointer.nativeValue(copy));
    }

    long address() {
        return address;
    }

    long length() {
        return buffer.remaining();
    }

    /** Brings the first {@code count} bytes the kernel wrote back into a heap buffer; nothing to do for a direct one. */
    void copyOut(int count) {
        if (copy != null && count > 0) {
            byte[] bytes = new byte[count];
            copy.read(0, bytes, 0, count);
            buffer.duplicate().put(bytes);
        }
    }

    @Override
    public void close() {
        if (copy != null) {
            copy.close();
        }
    }
}
