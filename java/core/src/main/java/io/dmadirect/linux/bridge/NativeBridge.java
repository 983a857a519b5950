package io.dmadirect.linux.bridge;

/**
 * The functions of libdmadirect.so (native/src/jni.c), one Java method per C function. Callable only
 * after {@link NativeLibrary#status()} reports the library loaded. Addresses are raw CPU addresses;
 * lengths are non-negative.
 */
final class NativeBridge {
    /** Must equal DD_ABI_VERSION in jni.c; a library of another version is refused, not called. */
    static final int ABI_VERSION = 1;

    private NativeBridge() {
    }

    static native int abiVersion();

    /** The data cache line the loops step by, in bytes. */
    static native int lineSize();

    /** The instruction {@link #clean} uses, as the manuals spell it ("clwb", "dc cvac"). */
    static native String cleanInstruction();

    static native String invalidateInstruction();

    static native void clean(long address, long length);

    static native void invalidate(long address, long length);

    static native void flush(long address, long length);

    /** {@code dd_copy_nt(to, from, length)}: streaming stores, then a store fence. */
    static native void copyNonTemporal(long from, long to, long length);
}
