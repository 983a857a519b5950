package io.dmadirect.linux.headers;

/**
 * Memory policy modes of {@code set_mempolicy(2)} and {@code mbind(2)}, from {@code include/uapi/linux/mempolicy.h},
 * and the system call numbers that have no glibc wrapper (libnuma's are not assumed installed).
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/uapi/linux/mempolicy.h">MPOL_DEFAULT...</a>
 */
public final class Mempolicy {
    /** The process's or the system's default: the local node of the CPU that faults the page. */
    public static final int MPOL_DEFAULT = 0;
    /** The given node first, any other when it has none free. */
    public static final int MPOL_PREFERRED = 1;
    /** Only the given nodes; the allocation fails rather than fall back. */
    public static final int MPOL_BIND = 2;

    private Mempolicy() {
    }

    /** {@code __NR_set_mempolicy} of this architecture. */
    public static long setMempolicyNumber(String arch) {
        return isArm64(arch) ? 237 : 238;
    }

    /** {@code __NR_move_pages} of this architecture. */
    public static long movePagesNumber(String arch) {
        return isArm64(arch) ? 239 : 279;
    }

    private static boolean isArm64(String arch) {
        return arch.equals("aarch64") || arch.equals("arm64");
    }
}
