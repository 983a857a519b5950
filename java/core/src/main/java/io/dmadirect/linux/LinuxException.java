package io.dmadirect.linux;

import io.dmadirect.DmaException;
import io.dmadirect.linux.headers.Errno;

/**
 * A failed system call or host setup problem. The message reads
 * {@code failed to <op>: <strerror> (errno N); <remedy>}, or {@code failed to <op>: <problem>; <remedy>}
 * when no errno is involved, so the user sees the diagnosis and what to do in one line.
 */
public class LinuxException extends DmaException {
    private static final long serialVersionUID = 1L;

    private final String op;
    private final int errno;
    private final String problem;
    private final String remedy;

    private LinuxException(String op, int errno, String problem, String remedy, Throwable cause) {
        super(message(op, problem, remedy), cause);
        this.op = op;
        this.errno = errno;
        this.problem = problem;
        this.remedy = remedy;
    }

    /** A system call failed with {@code errno}; the remedy is the general one for that call and errno, if any. */
    public static LinuxException ofErrno(String syscall, String detail, int errno) {
        return new LinuxException(op(syscall, detail), errno, errnoText(errno),
                Remedies.forErrno(syscall, errno), null);
    }

    /** A host setup problem found without a failing call, for example PFN 0 in pagemap. */
    public static LinuxException setup(String op, String problem, String remedy) {
        return new LinuxException(op, 0, problem, remedy, null);
    }

    /** The same failure, with a remedy that knows more context than the syscall layer did. */
    public LinuxException withRemedy(String betterRemedy) {
        return new LinuxException(op, errno, problem, betterRemedy, this);
    }

    /** What was being done, as in "mmap 16 MiB of 2 MiB hugepages". */
    public String op() {
        return op;
    }

    /** The errno of the failed call, 0 for a setup problem. */
    public int errno() {
        return errno;
    }

    /** What went wrong: the strerror text with the errno, or the setup problem. */
    public String problem() {
        return problem;
    }

    /** What to do about it, or null when nothing general is known. */
    public String remedy() {
        return remedy;
    }

    static String errnoText(int errno) {
        return Errno.strerror(errno) + " (errno " + errno + ")";
    }

    private static String op(String syscall, String detail) {
        return detail == null || detail.isEmpty() ? syscall : syscall + " " + detail;
    }

    private static String message(String op, String problem, String remedy) {
        String base = "failed to " + op + ": " + problem;
        return remedy == null ? base : base + "; " + remedy;
    }
}
