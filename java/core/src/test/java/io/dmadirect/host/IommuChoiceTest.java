package io.dmadirect.host;

import io.dmadirect.pci.PciAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.host.LinuxPlatformOptions.IommuInterface;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link IommuChoice}: what each request gives for each thing the kernel may lack. The three things iommufd
 * needs (the sysfs cdev, {@code /dev/iommu}, the right to open both) are taken away one at a time.
 */
class IommuChoiceTest {
    private static final PciAddress EDU = PciAddress.parse("0000:00:04.0");

    @TempDir
    Path sysfs;
    @TempDir
    Path dev;
    /** The nodes this process may not open read-write. */
    private final Set<Path> denied = new HashSet<>();
    private final Predicate<Path> openable = node -> !denied.contains(node);

    /** A 6.6+ kernel with iommufd: {@code vfio-dev/vfio3} in sysfs, {@code /dev/iommu} and {@code /dev/vfio/devices/vfio3}. */
    @BeforeEach
    void kernelWithIommufd() throws IOException {
        Files.createDirectories(sysfs.resolve("bus/pci/devices/0000:00:04.0/vfio-dev/vfio3"));
        Files.createFile(dev.resolve("iommu"));
        Files.createFile(Files.createDirectories(dev.resolve("vfio/devices")).resolve("vfio3"));
    }

    private IommuChoice.Choice decide(IommuInterface wanted) {
        return IommuChoice.decide(wanted, HostTree.of(sysfs, dev), EDU, openable);
    }

    @Test
    void autoTakesIommufdWhenTheKernelOffersItToThisProcess() {
        IommuChoice.Choice c = decide(IommuInterface.AUTO);
        assertEquals(IommuChoice.Kind.IOMMUFD, c.kind());
        assertEquals(dev.resolve("vfio/devices/vfio3"), c.cdev());
        assertTrue(c.why().startsWith("the kernel offers it"), c.why());
        assertEquals(IommuChoice.Kind.IOMMUFD, decide(IommuInterface.IOMMUFD).kind());
    }

    @Test
    void type1IsTakenWhenAskedForEvenWhereIommufdWorks() {
        IommuChoice.Choice c = decide(IommuInterface.VFIO_TYPE1);
        assertEquals(IommuChoice.Kind.VFIO_TYPE1, c.kind());
        assertNull(c.cdev());
    }

    @Test
    void aKernelWithoutTheDeviceCdevFallsBackOrIsRefused() throws IOException {
        Files.delete(sysfs.resolve("bus/pci/devices/0000:00:04.0/vfio-dev/vfio3"));
        assertFallsBackAndRefuses("the kernel offers no VFIO device cdev for 0000:00:04.0 (no vfio-dev/ in sysfs: "
                + "it needs Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV)", "use the VFIO type1 container");
    }

    @Test
    void aKernelWithoutIommufdFallsBackOrIsRefused() throws IOException {
        Files.delete(dev.resolve("iommu"));
        assertFallsBackAndRefuses("there is no " + dev.resolve("iommu") + " (the kernel lacks CONFIG_IOMMUFD, or the "
                + "iommufd module is not loaded: modprobe iommufd)", "use the VFIO type1 container");
    }

    @Test
    void aCdevMissingFromDevAsOn6Point1FallsBackOrIsRefused() throws IOException {
        Files.delete(dev.resolve("vfio/devices/vfio3"));
        assertFallsBackAndRefuses("there is no " + dev.resolve("vfio/devices/vfio3") + " (sysfs names vfio3, but the "
                + "node needs Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV)", "use the VFIO type1 container");
    }

    @Test
    void nodesThisProcessMayNotOpenFallBackOrAreRefusedWithTheUdevRemedy() {
        denied.add(dev.resolve("iommu"));
        assertFallsBackAndRefuses("this process may not open " + dev.resolve("iommu") + " read-write",
                "dmadirect udev install");
        denied.clear();
        denied.add(dev.resolve("vfio/devices/vfio3"));
        assertFallsBackAndRefuses("this process may not open " + dev.resolve("vfio/devices/vfio3") + " read-write",
                "dmadirect udev install");
    }

    private void assertFallsBackAndRefuses(String problem, String remedy) {
        IommuChoice.Choice auto = decide(IommuInterface.AUTO);
        assertEquals(IommuChoice.Kind.VFIO_TYPE1, auto.kind());
        assertEquals("iommufd is not usable: " + problem, auto.why());
        LinuxException e = assertThrows(LinuxException.class, () -> decide(IommuInterface.IOMMUFD));
        assertTrue(e.getMessage().startsWith("failed to open 0000:00:04.0 through iommufd: " + problem + "; "),
                e.getMessage());
        assertTrue(e.getMessage().contains(remedy), e.getMessage());
    }
}
