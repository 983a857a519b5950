package io.dmadirect.linux.bridge;

import io.dmadirect.memory.RawMemory;

/**
 * Copies whose stores bypass the caches, for bounces into swiotlb slots that only the device will read:
 * no read-for-ownership of the slot, and the CPU's working set is not evicted.
 *
 * <p>Measured on the dev host (2-vCPU Xeon VM; native/README.md has the commands and tables): into a cold
 * destination, as a rotating bounce slot is, 1.3x to 2.3x {@link RawMemory#copy} from 16 KiB to 4 MiB; into
 * a destination still in cache, 3x to 10x slower below 1 MiB. So: only toward the device, only from
 * {@link #MIN_BYTES}, never for the copy back into the caller's (hot) buffer.
 */
final class NonTemporalCopy {
    /** Below this a copy goes through {@link RawMemory#copy}: a slot this small is too likely still cached. */
    public static final long MIN_BYTES = 64 * 1024;

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
