package io.dmadirect.linux.jna;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * glibc, bound by JNA direct mapping: {@code static native} methods registered once, close to JNI in
 * cost. Pointers, {@code size_t}, {@code ssize_t} and {@code off_t} are Java {@code long}, which holds
 * only on LP64 Linux; {@link LinuxSyscalls} checks that before touching this class. Callers read
 * errno with {@link Native#getLastError()}, which JNA saves right after each call.
 *
 * <p>{@code open} and {@code ioctl} are variadic in C; calling them with fixed integer arguments is
 * the same on the x86_64 and arm64 Linux ABIs.
 *
 * @see <a href="https://github.com/java-native-access/jna/blob/master/www/DirectMapping.md">JNA direct mapping</a>
 */
final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    static native int open(String path, int flags, int mode);

    static native int close(int fd);

    static native int ioctl(int fd, long request, long arg);

    static native long mmap(long address, long length, int prot, int flags, int fd, long offset);

    static native int munmap(long address, long length);

    static native int mlock(long address, long length);

    static native int munlock(long address, long length);

    static native int madvise(long address, long length, int advice);

    static native int memfd_create(String name, int flags);

    static native int ftruncate(int fd, long length);

    static native int fallocate(int fd, int mode, long offset, long length);

    static native long pread(int fd, long buf, long count, long offset);

    static native long pwrite(int fd, long buf, long count, long offset);

    static native long read(int fd, long buf, long count);

    static native long write(int fd, long buf, long count);

    static native int eventfd(int initval, int flags);

    static native int getrlimit(int resource, long[] rlim);

    static native long sysconf(int name);

    /** {@code syscall(2)} with six integer arguments: variadic in C, the same registers as a fixed call on LP64 Linux. */
    static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    static native int getpid();
}
