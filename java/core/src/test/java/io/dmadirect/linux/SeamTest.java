package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageRemedies;

import io.dmadirect.linux.hugepages.HugepageMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.MemlockLimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaException;
import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.Capability;
import io.dmadirect.linux.headers.Errno;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors as the user reads them, produced through a fake syscall seam and a fake sysfs. */
class SeamTest {
    /** What a PA-mode open needs (CAP_SYS_ADMIN for pagemap) and nothing that lifts the memlock limit. */
    private static final ProcessCapabilities PA_CAPS = new ProcessCapabilities(1L << Capability.CAP_SYS_ADMIN);

    @TempDir
    Path tmp;

    @Test
    void errnoMessageNamesCallStrerrorErrnoAndRemedy() {
        LinuxException e = LinuxException.ofErrno("mlock", "8 bytes at 0x1000", Errno.ENOMEM);
        assertTrue(e instanceof DmaException);
        assertEquals(Errno.ENOMEM, e.errno());
        assertTrue(e.getMessage().startsWith(
                "failed to mlock 8 bytes at 0x1000: Cannot allocate memory (errno 12); raise RLIMIT_MEMLOCK with "),
                e.getMessage());
        assertTrue(e.getMessage().contains("LimitMEMLOCK=infinity"), e.getMessage());
    }

    @Test
    void permissionErrorsPointToPermissions() {
        LinuxException e = LinuxException.ofErrno("open", "/dev/vfio/7", Errno.EACCES);
        assertTrue(e.getMessage().startsWith("failed to open /dev/vfio/7: Permission denied (errno 13); check permissions"),
                e.getMessage());
        assertTrue(LinuxException.ofErrno("open", "/x", Errno.EPERM).getMessage().contains("run as root"));
    }

    @Test
    void unknownErrnoHasNoRemedyAndGlibcText() {
        LinuxException e = LinuxException.ofErrno("ioctl", "0x3b71 on fd 5", 200);
        assertEquals("failed to ioctl 0x3b71 on fd 5: Unknown error 200 (errno 200)", e.getMessage());
        assertEquals(null, e.remedy());
    }

    @Test
    void withRemedyKeepsErrnoAndReplacesRemedy() {
        LinuxException e = LinuxException.ofErrno("mmap", "4 bytes", Errno.ENOMEM).withRemedy("do this");
        assertEquals("failed to mmap 4 bytes: Cannot allocate memory (errno 12); do this", e.getMessage());
        assertEquals(Errno.ENOMEM, e.errno());
    }

    @Test
    void memlockTooLowSaysLimitAndHowToRaiseIt() {
        FakeSyscalls sys = new FakeSyscalls();
        sys.memlock = new Rlimit(64 * Sizes.KiB, 64 * Sizes.KiB);
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        HugepageOptions options = HugepageOptions.DEFAULTS.withInitialBytes(8 * Sizes.MiB);
        LinuxException e = assertThrows(LinuxException.class,
                () -> HugepageMemory.open(options, sys, host.sysfs(), PA_CAPS, host.memoryMap()));
        assertEquals("failed to lock 8 MiB of DMA memory: RLIMIT_MEMLOCK is 64 KiB (hard limit 64 KiB) but 8 MiB "
                + "must be locked; raise RLIMIT_MEMLOCK with `ulimit -l unlimited` in the shell that starts Java, "
                + "LimitMEMLOCK=infinity in the systemd unit, or a memlock line in /etc/security/limits.conf; "
                + "or grant the process CAP_IPC_LOCK", e.getMessage());
        assertEquals(java.util.List.of("getrlimit"), sys.calls, "nothing is mapped before the check");
    }

    @Test
    void capIpcLockLiftsTheMemlockLimit() {
        FakeSyscalls sys = new FakeSyscalls().failing("getrlimit", Errno.EFAULT);
        MemlockLimit.require(sys, new ProcessCapabilities(1L << 14), Sizes.GiB);
        assertTrue(sys.calls.isEmpty());
    }

    @Test
    void noHugepagesNamesSysfsPathAndCliCommandAndUndoes() {
        FakeSyscalls sys = new FakeSyscalls().failing("mmap", Errno.ENOMEM);
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 0, 0);
        HugepageOptions options = HugepageOptions.DEFAULTS.withInitialBytes(8 * Sizes.MiB);
        LinuxException e = assertThrows(LinuxException.class,
                () -> HugepageMemory.open(options, sys, host.sysfs(), PA_CAPS, host.memoryMap()));
        Path nr = tmp.resolve("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
        assertEquals("failed to mmap 8388608 bytes of fd 3: Cannot allocate memory (errno 12); needs 4 hugepages "
                + "of 2 MiB, 0 free of 0 reserved: reserve more with `echo 4 > " + nr + "` as root, or "
                + "`dmadirect hugepages --reserve 4`", e.getMessage());
        assertEquals(java.util.List.of("getrlimit", "memfd_create", "ftruncate", "mmap", "close"), sys.calls,
                "the memfd is closed again");
    }

    @Test
    void oneGigPagesUnavailableIsSaidBeforeAnyCall() {
        FakeSyscalls sys = new FakeSyscalls();
        FakeHost host = new FakeHost(tmp).pool(HugepageSize.SIZE_2M, 16, 16);
        HugepageOptions options = HugepageOptions.DEFAULTS.withPageSize(HugepageSize.SIZE_1G).withInitialBytes(Sizes.GiB);
        LinuxException e = assertThrows(LinuxException.class,
                () -> HugepageMemory.open(options, sys, host.sysfs(), PA_CAPS, host.memoryMap()));
        assertTrue(e.getMessage().startsWith("failed to use 1 GiB hugepages: 1 GiB hugepages are not available on "
                + "this host (" + tmp.resolve("sys/kernel/mm/hugepages/hugepages-1048576kB") + " is missing); "
                + "1 GiB pages need a CPU with pdpe1gb"), e.getMessage());
        assertTrue(sys.calls.isEmpty());
    }

    @Test
    void oneGigPagesNotReservedHintsAtBootReservation() {
        String remedy = HugepageRemedies.reserveHugepages(HugepageSize.SIZE_1G, 2, 0, 0, "/sys/x/nr_hugepages");
        assertEquals("needs 2 hugepages of 1 GiB, 0 free of 0 reserved: reserve more with `echo 2 > /sys/x/nr_hugepages` "
                + "as root, or `dmadirect hugepages --reserve 2 --size 1G` (1 GiB pages are most reliably reserved "
                + "at boot with hugepagesz=1G hugepages=N)", remedy);
    }
}
