package io.dmadirect.memory;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The child JVM of {@link RawMemoryJarIT}: runs every {@link RawMemory} method on a direct buffer, checks
 * each result against the buffer's own view, and prints {@code IMPLEMENTATION <name>} and {@code OK}, or
 * throws.
 */
public final class RawMemoryProbe {
    private RawMemoryProbe() {
    }

    public static void main(String[] args) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(8192);
        long base = RawMemory.addressOf(buffer);
        ByteBuffer sliced = buffer.position(4096).slice();
        check(RawMemory.addressOf(sliced) == base + 4096, "a slice's address is its own first byte");
        check(RawMemory.addressOf(buffer) == base, "the address does not move with the position");

        RawMemory.fill(base, 4096, (byte) 0x5a);
        check(buffer.get(0) == 0x5a && buffer.get(4095) == 0x5a && buffer.get(4096) == 0, "fill covers exactly 4096 bytes");
        byte[] pattern = new byte[1000];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i * 31 + 7);
        }
        RawMemory.copyFromArray(pattern, 0, base + 100, pattern.length);
        RawMemory.copy(base + 100, base + 5000, pattern.length);
        byte[] back = new byte[pattern.length];
        RawMemory.copyToArray(base + 5000, back, 0, back.length);
        check(Arrays.equals(pattern, back), "array -> memory -> memory -> array keeps every byte");
        RawMemory.putByte(base + 8191, (byte) -3);
        check(RawMemory.getByte(base + 8191) == -3 && buffer.get(8191) == -3, "putByte and getByte");
        try {
            RawMemory.copyToArray(base, back, 990, 20);
            throw new AssertionError("copyToArray past the array's end was not refused");
        } catch (IndexOutOfBoundsException expected) {
            // the bounds of the heap array are checked
        }
        System.out.println("IMPLEMENTATION " + RawMemory.implementation());
        System.out.println("OK");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError("RawMemory: " + what);
        }
    }
}
