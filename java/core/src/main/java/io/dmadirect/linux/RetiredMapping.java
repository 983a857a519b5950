package io.dmadirect.linux;

import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.Mman;
import java.lang.System.Logger.Level;

/**
 * Takes memory back from this process without leaving a hole: the mapping at a range is replaced, in
 * one {@code mmap(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)}, by private zero-filled
 * memory that reserves nothing, instead of being unmapped.
 *
 * <p>Why: a {@code ByteBuffer} over the range (a CPU view of DMA memory, a BAR's registers) can be held
 * or be in use on another thread when its owner closes, and Java cannot revoke it. Touching an unmapped
 * range kills the JVM with SIGSEGV; touching the replacement reads zeros and writes into memory nobody
 * else sees. The replaced object (hugepages, the BAR) is released exactly as munmap would release it.
 * The cost: the virtual range stays reserved until the process exits, which is address space only, and
 * a stale buffer that writes makes ordinary 4 KiB pages resident for what it wrote.
 */
public final class RetiredMapping {
    private static final System.Logger LOG = System.getLogger(RetiredMapping.class.getName());

    private RetiredMapping() {
    }

    /**
     * Replaces {@code [address, address + length)} by anonymous memory; true when done. On failure the
     * old mapping is left in place (leaked until exit, logged): a leak is better than a hole.
     */
    public static boolean replace(Syscalls sys, long address, long length, String what) {
        try {
            sys.mmap(address, length, Mman.PROT_READ | Mman.PROT_WRITE,
                    Mman.MAP_FIXED | Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
            return true;
        } catch (LinuxException e) {
            LOG.log(Level.WARNING, "linux: leaking " + what + " (" + Sizes.format(length) + " at " + Sizes.hex(address)
                    + ") until exit: replacing its mapping at close failed: " + e.getMessage());
            return false;
        }
    }
}
