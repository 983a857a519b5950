package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.HostRequirement;
import io.dmadirect.linux.IndependentPagemap;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Syscalls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.headers.Mman;
import io.dmadirect.linux.jna.LinuxSyscalls;
import org.junit.jupiter.api.Test;

/** Pagemap against this host's page tables, as root. */
class PagemapHostTest {

    @Test
    void lockedAnonymousPageTranslatesLikeTheIndependentReader() {
        HostRequirement.requireRoot();
        Syscalls sys = LinuxSyscalls.instance();
        long size = sys.pageSize() * 4;
        long address = sys.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE, -1, 0);
        try (Pagemap pagemap = Pagemap.openSelf(sys.pageSize())) {
            sys.mlock(address, size);
            for (long offset = 0; offset < size; offset += sys.pageSize()) {
                long physical = pagemap.physicalAddress(address + offset + 123);
                assertTrue(physical > 0);
                assertEquals(IndependentPagemap.physicalAddress(address + offset + 123), physical);
            }
            sys.munmap(address + sys.pageSize(), sys.pageSize());
            LinuxException absent = assertThrows(LinuxException.class,
                    () -> pagemap.physicalAddress(address + sys.pageSize()));
            assertTrue(absent.getMessage().contains("not present"), absent.getMessage());
        } finally {
            sys.munmap(address, size);
        }
    }
}
