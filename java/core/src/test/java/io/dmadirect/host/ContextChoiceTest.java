package io.dmadirect.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.host.IommuChoice.Kind;
import io.dmadirect.host.LinuxPlatformOptions.IommuInterface;
import io.dmadirect.linux.FakeSyscalls;
import io.dmadirect.linux.sysfs.FakeSysfs;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.IommuContext;
import io.dmadirect.pci.PciAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link IommuChoice#choose}: one row per way a device can be given to userspace, from the fake sysfs and /dev
 * tree the binding leaves, to the context a session opens it in (its name and address mode).
 */
class ContextChoiceTest {
    private static final String EDU = "0000:00:04.0";

    @TempDir
    Path root;

    static Stream<Arguments> bindings() {
        return Stream.of(
                Arguments.of("uio_pci_generic", (Consumer<FakeSysfs>) t -> t.device(EDU, "1234:11e8", 0x00ff00,
                        "uio_pci_generic", -1).file("/sys/bus/pci/devices/" + EDU + "/uio/uio0/name", "uio_pci_generic"),
                        Kind.UIO, "uio", AddressMode.PA),
                Arguments.of("vfio-pci, no-IOMMU group", (Consumer<FakeSysfs>) t -> t.device(EDU, "1234:11e8", 0x00ff00,
                        "vfio-pci", 0).file("/dev/vfio/noiommu-0", ""),
                        Kind.VFIO_NOIOMMU, "vfio-noiommu", AddressMode.PA),
                Arguments.of("vfio-pci, IOMMU group, no iommufd", (Consumer<FakeSysfs>) t -> t.device(EDU, "1234:11e8",
                        0x00ff00, "vfio-pci", 3).file("/dev/vfio/3", ""),
                        Kind.VFIO_TYPE1, "vfio-type1", AddressMode.IOVA),
                Arguments.of("vfio-pci, IOMMU group, iommufd and the cdev", (Consumer<FakeSysfs>) t -> t.device(EDU,
                        "1234:11e8", 0x00ff00, "vfio-pci", 3).file("/dev/vfio/3", "")
                        .file("/sys/bus/pci/devices/" + EDU + "/vfio-dev/vfio0/dev", "511:0")
                        .file("/dev/iommu", "").file("/dev/vfio/devices/vfio0", ""),
                        Kind.IOMMUFD, "iommufd", AddressMode.IOVA));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void eachBindingGetsItsContext(String binding, Consumer<FakeSysfs> host, Kind kind, String name, AddressMode mode) {
        FakeSysfs fake = new FakeSysfs(root);
        host.accept(fake);
        IommuChoice.Choice c = IommuChoice.choose(IommuInterface.AUTO, fake.tree, PciAddress.parse(EDU), node -> true);
        assertEquals(kind, c.kind(), c.why());
        assertEquals(name, kind.contextName);
        assertEquals(mode, kind.mode);
        if (kind == Kind.UIO) {
            // The only context that opens nothing itself: its name and mode come from the object too.
            try (IommuContext context = c.open(new FakeSyscalls(), new PciBus(fake.tree))) {
                assertEquals(name, context.name());
                assertEquals(mode, context.mode());
                assertEquals(Optional.empty(), context.domain());
            }
        }
    }
}
