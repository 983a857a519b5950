package io.dmadirect.linux.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.memory.RawMemory;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Streaming copies give the bytes a plain copy gives, on both sides of the threshold and at odd alignments. */
class NonTemporalCopyTest {

    @Test
    void availableWhenTheLibraryLoaded() {
        assertEquals(NativeLibrary.status().loaded(), NonTemporalCopy.available());
        assertTrue(NonTemporalCopy.available());
    }

    @Test
    void copiesExactlyAroundTheThreshold() {
        int max = (int) NonTemporalCopy.MIN_BYTES * 4 + 64;
        ByteBuffer from = ByteBuffer.allocateDirect(max + 32);
        ByteBuffer to = ByteBuffer.allocateDirect(max + 32);
        for (int i = 0; i < from.capacity(); i++) {
            from.put(i, (byte) (i * 7 + 1));
        }
        long src = RawMemory.addressOf(from);
        long dst = RawMemory.addressOf(to);
        for (long size : new long[] {0, 1, NonTemporalCopy.MIN_BYTES - 1, NonTemporalCopy.MIN_BYTES, max - 17}) {
            for (int misalign : new int[] {0, 3, 16}) {
                for (int i = 0; i < to.capacity(); i++) {
                    to.put(i, (byte) 0x5a);
                }
                NonTemporalCopy.copy(src + misalign, dst + 5, size);
                assertEquals((byte) 0x5a, to.get(4), "before the destination");
                for (int i = 0; i < size; i++) {
                    assertEquals(from.get(i + misalign), to.get(i + 5), "size " + size + " byte " + i);
                }
                assertEquals((byte) 0x5a, to.get((int) (5 + size)), "after the destination");
            }
        }
    }
}
