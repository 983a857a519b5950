package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Sizes;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.iommufd.IommufdContext;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.spi.IovaRange;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.host.LinuxPlatformOptions.IommuInterface;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciPlatforms;
import io.dmadirect.host.PciSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: the two kernel interfaces of IOVA mode, VFIO type1 and iommufd, on real kernels.
 * Device: edu behind intel-iommu on vfio-pci.
 * Setup: the iommu-vfio variant boots Debian's 6.1 kernel (no iommufd, no VFIO device cdev node); the iommufd
 * variant boots 6.12 with iommufd and VFIO rebuilt with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV
 * (test-rigs/qemu, prepare.sh --iommufd). The shared edu session is let go: VFIO gives a device to one
 * opener at a time.
 * Action: open the edu with each {@link IommuInterface} and do a round trip.
 * Seen: AUTO takes iommufd where the kernel offers it and type1 elsewhere; each explicit choice the kernel
 * can meet moves intact data at IOVAs mapped through that interface; iommufd asked for on 6.1 is refused
 * with the reason before anything is opened, and type1 opens the device right after. While one session holds
 * the edu, a second one through either interface is refused with the reason (VFIO gives a device to one
 * opener at a time), and the first goes on working.
 */
@Tag("iommu")
@Order(Integer.MAX_VALUE - 2)
class IommuInterfaceTest {
    private static final long MEMORY = 32 * Sizes.MiB;

    @Test
    void autoTakesIommufdWhereTheKernelOffersItAndType1Elsewhere() {
        Rig.requireRig();
        String expected = Rig.iommufd() ? "iommufd" : "vfio-type1";
        assertEquals(Optional.of(expected), Rig.eduSession().iommuName(), "the shared session, opened with AUTO");
        Rig.note("iommu interface: AUTO chose " + expected + " (/dev/iommu " + (Files.exists(Path.of("/dev/iommu"))
                ? "present" : "absent") + ", edu cdev " + cdev() + ")");
    }

    @Test
    void eachInterfaceTheKernelOffersMovesIntactData() {
        Rig.requireRig();
        Rig.releaseEdu();
        roundTripThrough(IommuInterface.VFIO_TYPE1);
        if (Rig.iommufd()) {
            roundTripThrough(IommuInterface.IOMMUFD);
        } else {
            LinuxException e = assertThrows(LinuxException.class, () -> open(IommuInterface.IOMMUFD).close());
            // 6.1 lists vfio-dev/vfio0 in sysfs but has neither /dev/iommu nor the cdev node.
            assertTrue(e.getMessage().startsWith("failed to open " + edu() + " through iommufd: there is no /dev/iommu "
                    + "(the kernel lacks CONFIG_IOMMUFD"), e.getMessage());
            Rig.note("iommu interface: IOMMUFD on " + System.getProperty("os.version") + " refused: " + e.getMessage());
            roundTripThrough(IommuInterface.VFIO_TYPE1);   // nothing was left holding the device
        }
    }

    @Test
    void aDeviceHeldByOneSessionIsRefusedToAnotherWithTheReason() {
        Rig.requireRig();
        Rig.releaseEdu();
        try (PciSession holder = open(IommuInterface.AUTO)) {
            for (IommuInterface other : Rig.iommufd() ? List.of(IommuInterface.VFIO_TYPE1, IommuInterface.IOMMUFD)
                    : List.of(IommuInterface.VFIO_TYPE1)) {
                LinuxException e = assertThrows(LinuxException.class, () -> open(other).close());
                assertTrue(e.getMessage().contains("one opener at a time"), e.getMessage());
                Rig.note("iommu interface: held through " + holder.iommuName().orElseThrow() + ", a second session "
                        + "through " + other + " refused: " + e.getMessage());
            }
            Rig.note("iommu interface: the holder still works: " + EduRoundTrip.run(holder));
        }
    }

    /**
     * Issue 21, item 6: {@code IOMMU_IOAS_MAP_FILE} (Linux 6.13+) pins a memfd's pages without a user mapping. The
     * rig's 6.12 kernel answers ENOTTY, which must come back as a clear exception naming the version; a 6.13+ kernel
     * must map 2 MiB of a memfd at a free IOVA (and it is unmapped again).
     */
    @Test
    @Tag("iommufd")
    void mapFileIsRefusedWithTheKernelVersionBefore613AndMapsAMemfdFrom613() {
        Rig.requireRig();
        Rig.require(Rig.iommufd(), "the iommufd kernel");
        Rig.releaseEdu();
        LinuxSyscalls sys = LinuxSyscalls.instance();
        try (PciSession session = open(IommuInterface.IOMMUFD)) {
            IommufdContext iommu = (IommufdContext) session.iovaMemory().orElseThrow().iommu();
            List<IovaRange> valid = iommu.validRanges();
            IovaRange top = valid.get(valid.size() - 1);
            // The top 2 MiB of the highest valid range, far above what the session's IOVA allocator hands out.
            long iova = (top.last() - Sizes.MiB * 2 + 1) & -(2 * Sizes.MiB);
            int memfd = sys.memfdCreate("hil-map-file", 0);
            try {
                sys.ftruncate(memfd, 2 * Sizes.MiB);
                boolean has = kernelAtLeast(6, 13);
                if (has) {
                    iommu.mapFile(iova, memfd, 0, 2 * Sizes.MiB);
                    iommu.unmap(iova, 2 * Sizes.MiB);
                    Rig.note("iommufd MAP_FILE on " + System.getProperty("os.version") + ": 2 MiB of a memfd mapped at "
                            + Sizes.hex(iova) + " and unmapped");
                } else {
                    LinuxException e = assertThrows(LinuxException.class,
                            () -> iommu.mapFile(iova, memfd, 0, 2 * Sizes.MiB));
                    assertEquals(25, e.errno(), e.getMessage());
                    assertTrue(e.getMessage().contains("IOMMU_IOAS_MAP_FILE needs Linux 6.13+ with iommufd; this kernel "
                            + "answered ENOTTY"), e.getMessage());
                    Rig.note("iommufd MAP_FILE on " + System.getProperty("os.version") + " (IOAS " + iommu.ioasId()
                            + ", IOVA " + Sizes.hex(iova) + "): " + e.getMessage());
                }
            } finally {
                sys.close(memfd);
            }
            // The session's own mappings are untouched.
            Rig.note("iommufd MAP_FILE: the session still works: " + EduRoundTrip.run(session));
        }
    }

    private static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version").split("[.+-]");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    private static void roundTripThrough(IommuInterface iface) {
        String name = iface == IommuInterface.IOMMUFD ? "iommufd" : "vfio-type1";
        try (PciSession session = open(iface)) {
            assertEquals(Optional.of(name), session.iommuName());
            IovaMemory iova = session.iovaMemory().orElseThrow();
            assertEquals(name, iova.iommu().name());
            String line = EduRoundTrip.run(session);
            Rig.note("iommu interface: " + iface + " on " + System.getProperty("os.version") + ": "
                    + Sizes.format(iova.mappedBytes()) + " in " + iova.mappingCount() + " mapping(s), valid IOVAs "
                    + iova.iommu().validRanges() + "; " + line);
        }
    }

    private static PciSession open(IommuInterface iface) {
        LinuxPlatformOptions options = PciPlatforms.defaults()
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(MEMORY).withName("hil-iommu-" + iface))
                .withIommu(iface);
        return PciSession.open(edu(), options);
    }

    private static PciAddress edu() {
        return PciAddress.parse(System.getenv("DMADIRECT_RIG_EDU_BDF"));
    }

    /** The edu's cdev as sysfs names it, and whether its node exists (6.1 names it but makes no node). */
    private static String cdev() {
        Path dir = Path.of("/sys/bus/pci/devices", edu().toString(), "vfio-dev");
        try (var names = Files.list(dir)) {
            return names.map(p -> Path.of("/dev/vfio/devices", p.getFileName().toString()))
                    .map(node -> node + (Files.exists(node) ? " present" : " named in sysfs, node absent"))
                    .findFirst().orElse("none");
        } catch (java.io.IOException e) {
            return "none (no " + dir + ")";
        }
    }
}
