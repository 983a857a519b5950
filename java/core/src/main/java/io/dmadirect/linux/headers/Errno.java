package io.dmadirect.linux.headers;

import java.util.Map;

/**
 * {@code <errno.h>}: the error numbers the mechanism layer meets, with glibc's strerror text. A table
 * rather than a native strerror call, so messages read the same in tests with a fake syscall seam.
 *
 * @see <a href="https://man7.org/linux/man-pages/man3/errno.3.html">errno(3)</a>
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EROFS = 30;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;

    private static final Map<Integer, String> TEXT = Map.ofEntries(
            Map.entry(EPERM, "Operation not permitted"),
            Map.entry(ENOENT, "No such file or directory"),
            Map.entry(ESRCH, "No such process"),
            Map.entry(EINTR, "Interrupted system call"),
            Map.entry(EIO, "Input/output error"),
            Map.entry(ENXIO, "No such device or address"),
            Map.entry(E2BIG, "Argument list too long"),
            Map.entry(EBADF, "Bad file descriptor"),
            Map.entry(EAGAIN, "Resource temporarily unavailable"),
            Map.entry(ENOMEM, "Cannot allocate memory"),
            Map.entry(EACCES, "Permission denied"),
            Map.entry(EFAULT, "Bad address"),
            Map.entry(EBUSY, "Device or resource busy"),
            Map.entry(EEXIST, "File exists"),
            Map.entry(ENODEV, "No such device"),
            Map.entry(ENOTDIR, "Not a directory"),
            Map.entry(EISDIR, "Is a directory"),
            Map.entry(EINVAL, "Invalid argument"),
            Map.entry(ENFILE, "Too many open files in system"),
            Map.entry(EMFILE, "Too many open files"),
            Map.entry(ENOTTY, "Inappropriate ioctl for device"),
            Map.entry(EFBIG, "File too large"),
            Map.entry(ENOSPC, "No space left on device"),
            Map.entry(ESPIPE, "Illegal seek"),
            Map.entry(EROFS, "Read-only file system"),
            Map.entry(ERANGE, "Numerical result out of range"),
            Map.entry(ENAMETOOLONG, "File name too long"),
            Map.entry(ENOSYS, "Function not implemented"),
            Map.entry(EOPNOTSUPP, "Operation not supported"));

    private Errno() {
    }

    /** What glibc's {@code strerror(errno)} prints, or "Unknown error N" as glibc does for numbers it lacks. */
    public static String strerror(int errno) {
        String text = TEXT.get(errno);
        return text != null ? text : "Unknown error " + errno;
    }
}
