package io.dmadirect.linux.bridge;

import io.dmadirect.memory.RawMemory;

/**
 * Copies whose stores bypass the caches, for bounces into swiotlb slots that only the device will read:
 * no read-for-ownership of the slot, and the CPU's working set is not evicted. Measured on the dev host
 * (native/bench/bench_copy.c, docs in the report of issue 8): about 2x memcpy from 16 KiB to 256 KiB when
 * the destination is cold, as a rotating bounce slot is, but 3x to 10x slower when the destination is
 * still cached. So use it only toward the device, never for the copy back into the caller's buffer.
 */
public final class NonTemporalCopy {
    /** Below this a copy goes through {@link RawMemory#copy}: the JNI call and the fence cost more than they save. */
    public static final long MIN_BYTES = 16 * 1024;

    private NonTemporalCopy() {
    }

    /** Whether copies stream (the native library loaded); otherwise {@link #copy} is a plain copy. */
    public static boolean available() {
        return NativeLibrary.status().loaded();
    }

    /** Copies {@code size} bytes from {@code from} to {@code to} (not overlapping), streaming when it pays. */
    public static void copy(long from, long to, long size) {
        if (size >= MIN_BYTES && available()) {
            NativeBridge.copyNonTemporal(from, to, size);
        } else {
            RawMemory.copy(from, to, size);
        }
    }
}
