package io.dmadirect.host;

import io.dmadirect.pci.PciAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.FakeSyscalls;
import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.headers.Capability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@link PciSession#open} decides from sysfs, before opening anything: PA mode without CAP_SYS_ADMIN
 * and a device on no usable driver are refused with their remedies, and no system call is made.
 */
class PciSessionModeTest {
    private static final PciAddress EDU = PciAddress.parse("0000:00:04.0");
    private static final ProcessCapabilities NOT_ROOT = new ProcessCapabilities(0);

    @TempDir
    Path sysfs;
    @TempDir
    Path dev;

    /** {@code bus/pci/devices/<address>/driver} as a link to {@code bus/pci/drivers/<driver>}, as the kernel makes it. */
    private void bind(String driver) throws IOException {
        Path drivers = Files.createDirectories(sysfs.resolve("bus/pci/drivers").resolve(driver));
        Path device = Files.createDirectories(sysfs.resolve("bus/pci/devices").resolve(EDU.toString()));
        Files.createSymbolicLink(device.resolve("driver"), drivers);
    }

    @Test
    void uioWithoutCapSysAdminIsRefusedBeforeTheDeviceOrAHugepageIsTouched() throws IOException {
        bind("uio_pci_generic");
        FakeSyscalls sys = new FakeSyscalls();
        LinuxException e = assertThrows(LinuxException.class,
                () -> PciSession.open(sys, sysfs, dev, NOT_ROOT, EDU, PciPlatforms.defaults()));
        assertTrue(e.getMessage().startsWith("failed to open 0000:00:04.0 on uio_pci_generic (PA mode): this process "
                + "lacks CAP_SYS_ADMIN, so /proc/self/pagemap shows PFN 0"), e.getMessage());
        assertTrue(e.getMessage().contains("run as root") && e.getMessage().contains("VFIO with an IOMMU (IOVA mode)"),
                e.getMessage());
        assertEquals(List.of(), sys.callNames(), "nothing was opened or mapped");
    }

    @Test
    void aDeviceOnAnotherDriverNamesTheBindCommand() throws IOException {
        bind("e1000e");
        FakeSyscalls sys = new FakeSyscalls();
        LinuxException e = assertThrows(LinuxException.class,
                () -> PciSession.open(sys, sysfs, dev, NOT_ROOT, EDU, PciPlatforms.defaults()));
        assertEquals("failed to open 0000:00:04.0 for a userspace driver: it is bound to e1000e; bind it to vfio-pci "
                + "(or uio_pci_generic without an IOMMU): dmadirect bind 0000:00:04.0", e.getMessage());
        assertEquals(List.of(), sys.callNames());
    }

    @Test
    void iommufdAskedForOnAKernelWithoutItIsRefusedBeforeAnythingIsOpened() throws IOException {
        bind("vfio-pci");
        inGroup("3");
        FakeSyscalls sys = new FakeSyscalls();
        LinuxException e = assertThrows(LinuxException.class, () -> PciSession.open(sys, sysfs, dev, NOT_ROOT, EDU,
                PciPlatforms.defaults().withIommu(LinuxPlatformOptions.IommuInterface.IOMMUFD)));
        assertTrue(e.getMessage().startsWith("failed to open 0000:00:04.0 through iommufd: the kernel offers no VFIO "
                + "device cdev"), e.getMessage());
        assertEquals(List.of(), sys.callNames(), "nothing was opened or mapped");
    }

    @Test
    void vfioWithoutAnIommuNeedsCapSysRawioAsWellAndSaysSoBeforeOpening() throws IOException {
        bind("vfio-pci");
        inGroup("3");
        Files.createFile(Files.createDirectories(dev.resolve("vfio")).resolve("noiommu-3"));
        FakeSyscalls sys = new FakeSyscalls();
        ProcessCapabilities adminOnly = new ProcessCapabilities(1L << Capability.CAP_SYS_ADMIN);
        LinuxException e = assertThrows(LinuxException.class,
                () -> PciSession.open(sys, sysfs, dev, adminOnly, EDU, PciPlatforms.defaults()));
        assertEquals("failed to open 0000:00:04.0 on vfio-pci without an IOMMU (PA mode): this process lacks "
                + "CAP_SYS_RAWIO, which VFIO requires to open a no-IOMMU group (/dev/vfio/noiommu-N); run as root, or "
                + "use VFIO with an IOMMU (IOVA mode)", e.getMessage());
        assertEquals(List.of(), sys.callNames());
    }

    private void inGroup(String group) throws IOException {
        Path dir = Files.createDirectories(sysfs.resolve("kernel/iommu_groups").resolve(group));
        Files.createSymbolicLink(sysfs.resolve("bus/pci/devices").resolve(EDU.toString()).resolve("iommu_group"), dir);
    }
}
