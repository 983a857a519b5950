package io.dmadirect.linux.jna;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Mempolicy;
import io.dmadirect.linux.headers.Mman;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * set_mempolicy and move_pages (issue 21) against this kernel: the host has one NUMA node (0), so what can be shown
 * here is that a page faulted under {@code MPOL_BIND} to node 0 (and {@code MPOL_PREFERRED} node 0) is reported on
 * node 0, that a page not faulted in is reported as not present, and that a node the host lacks is refused with
 * EINVAL. Two nodes and the fallback are the rig's numa variant (NumaPlacementTest).
 */
class NumaSyscallsTest {
    private static final int PAGES = 4;
    private static LinuxSyscalls sys;

    @BeforeAll
    static void load() {
        HostRequirement.require(System.getProperty("os.name").startsWith("Linux"), "needs Linux");
        HostRequirement.require(Files.isDirectory(Path.of("/sys/devices/system/node/node0")), "needs NUMA node 0 in sysfs");
        sys = LinuxSyscalls.instance();
    }

    @Test
    void pagesFaultedUnderABindOrAPreferenceLieOnThatNode() {
        for (int mode : new int[] {Mempolicy.MPOL_BIND, Mempolicy.MPOL_PREFERRED}) {
            long page = sys.pageSize();
            long address = sys.mmap(0, PAGES * page, Mman.PROT_READ | Mman.PROT_WRITE,
                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
            try {
                sys.setMempolicy(mode, 1L);
                try {
                    sys.directView(address, (int) (PAGES * page)).put(0, (byte) 1).put((int) (3 * page), (byte) 1);
                } finally {
                    sys.setMempolicy(Mempolicy.MPOL_DEFAULT, 0);
                }
                int[] nodes = sys.pageNodes(new long[] {address, address + page, address + 3 * page});
                assertEquals(0, nodes[0], "mode " + mode);
                assertEquals(-Errno.ENOENT, nodes[1], "a page never touched is not present (-ENOENT)");
                assertEquals(0, nodes[2], "mode " + mode);
            } finally {
                sys.munmap(address, PAGES * page);
            }
        }
    }

    @Test
    void aNodeTheHostLacksIsRefusedAndTheDefaultStays() {
        HostRequirement.require(!Files.exists(Path.of("/sys/devices/system/node/node63")), "a host with 64 nodes");
        LinuxException e = assertThrows(LinuxException.class, () -> sys.setMempolicy(Mempolicy.MPOL_BIND, 1L << 63));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("set_mempolicy"), e.getMessage());
        long page = sys.pageSize();
        long address = sys.mmap(0, page, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        try {
            sys.directView(address, (int) page).put(0, (byte) 1);
            assertArrayEquals(new int[] {0}, sys.pageNodes(new long[] {address}), "the refused policy changed nothing");
        } finally {
            sys.munmap(address, page);
        }
        assertArrayEquals(new int[0], sys.pageNodes(new long[0]));
    }
}
