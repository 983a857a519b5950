package io.dmadirect.linux.bridge;

import io.dmadirect.spi.CacheMaintenance;

/**
 * Cache maintenance by the CPU's own instructions, through libdmadirect.so: x86 CLWB/CLFLUSHOPT/CLFLUSH
 * with MFENCE, arm64 DC CVAC/DC CIVAC with DSB. One JNI call per range, whatever its length.
 */
final class NativeCacheMaintenance implements CacheMaintenance {
    private final NativeLibrary.Status status;

    NativeCacheMaintenance(NativeLibrary.Status status) {
        if (!status.loaded()) {
            throw new IllegalArgumentException("the native library is not loaded: " + status.detail());
        }
        this.status = status;
    }

    @Override
    public void clean(long cpuAddress, long size) {
        NativeBridge.clean(cpuAddress, checked(size));
    }

    @Override
    public void invalidate(long cpuAddress, long size) {
        NativeBridge.invalidate(cpuAddress, checked(size));
    }

    @Override
    public void flush(long cpuAddress, long size) {
        NativeBridge.flush(cpuAddress, checked(size));
    }

    /** A negative size would reach C as a huge size_t and walk the whole address space. */
    private static long checked(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        return size;
    }

    @Override
    public String toString() {
        return "native cache maintenance (clean " + status.cleanInstruction() + ", invalidate "
                + status.invalidateInstruction() + ", line " + status.lineSize() + " bytes)";
    }
}
