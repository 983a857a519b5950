package io.dmadirect.cli.system;

import io.dmadirect.linux.sysfs.FakeSysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bind refuses what would hurt the host or could not work, on a fake sysfs; and writes what driverctl writes. */
class DriverBindingTest {
    private static final String EDU = "0000:00:04.0";
    private static final String NVME = "0000:00:05.0";
    private static final String NIC = "0000:00:06.0";
    private static final int NVME_CLASS = 0x010802;

    @TempDir
    Path tmp;
    FakeSysfs sys;

    @BeforeEach
    void host() {
        sys = new FakeSysfs(tmp).driverLoaded("vfio-pci").driverLoaded("uio_pci_generic")
                .device(EDU, "1234:11e8", 0x00ff00, null, 3);
    }

    private List<DriverBinding.Refusal> refusals(String address, String driver) {
        return new DriverBinding(sys.tree).refusals(address, driver);
    }

    @Test
    void aLoneUnboundDeviceMayBeBound() {
        assertEquals(List.of(), refusals(EDU, "vfio-pci"));
        assertEquals(List.of(), refusals(EDU, "uio_pci_generic"));
    }

    @Test
    void aGroupWithAHostDriverIsNotViable() {
        sys.device(NVME, "8086:5845", NVME_CLASS, "nvme", 3);
        List<DriverBinding.Refusal> r = refusals(EDU, "vfio-pci");
        assertEquals(1, r.size(), r.toString());
        assertEquals("IOMMU group 3 would not be viable: 0000:00:05.0 (nvme) stay bound to host drivers", r.get(0).problem());
        assertEquals("bind the whole group: dmadirect bind 0000:00:05.0; then bind 0000:00:04.0", r.get(0).remedy());
        // uio has no groups to keep viable.
        assertEquals(List.of(), refusals(EDU, "uio_pci_generic"));
    }

    @Test
    void bridgesPciStubAndVfioMembersKeepTheGroupViable() {
        sys.device("0000:00:01.0", "8086:7191", 0x060400, "pcieport", 3)
                .device("0000:00:02.0", "8086:1111", 0x030000, "pci-stub", 3)
                .device("0000:00:03.0", "8086:2222", 0x020000, "vfio-pci", 3);
        assertEquals(List.of(), refusals(EDU, "vfio-pci"));
    }

    @Test
    void aMountedPartitionRefuses() {
        sys.device(NVME, "8086:5845", NVME_CLASS, "nvme", 5).disk(NVME, "nvme0n1", 0, 2)
                .mountinfo("22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
                        + "23 22 0:21 / /proc rw - proc proc rw\n");
        List<DriverBinding.Refusal> r = refusals(NVME, "uio_pci_generic");
        assertEquals(1, r.size(), r.toString());
        assertEquals("0000:00:05.0 carries nvme0n1p2, mounted on /", r.get(0).problem());
    }

    @Test
    void swapAndHoldersRefuseToo() {
        sys.device(NVME, "8086:5845", NVME_CLASS, "nvme", 5).disk(NVME, "nvme0n1", 0, 2)
                .file("/proc/swaps", "Filename Type Size Used Priority\n/dev/nvme0n1p1 partition 1024 0 -2\n")
                .file("/sys/devices/pci0000:00/" + NVME + "/nvme/nvme0/nvme0n1/nvme0n1p2/holders/dm-0", "");
        List<String> problems = refusals(NVME, "uio_pci_generic").stream().map(DriverBinding.Refusal::problem).toList();
        assertEquals(List.of("0000:00:05.0 carries nvme0n1p1, swap", "0000:00:05.0 carries nvme0n1p2, held by dm-0"), problems);
    }

    @Test
    void anUnmountedDiskDoesNotRefuse() {
        sys.device(NVME, "8086:5845", NVME_CLASS, "nvme", 5).disk(NVME, "nvme0n1", 0, 1)
                .mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
        assertEquals(List.of(), refusals(NVME, "vfio-pci"));
    }

    @Test
    void anInterfaceThatIsUpRefusesOneThatIsDownDoesNot() {
        sys.device(NIC, "8086:10d3", 0x020000, "e1000e", 6).netdev(NIC, "enp0s6", true);
        List<DriverBinding.Refusal> r = refusals(NIC, "vfio-pci");
        assertEquals(1, r.size(), r.toString());
        assertEquals("0000:00:06.0 drives network interface enp0s6, which is up", r.get(0).problem());
        assertEquals("ip link set enp0s6 down, if the host does not need it", r.get(0).remedy());
        sys.netdev(NIC, "enp0s6", false);
        assertEquals(List.of(), refusals(NIC, "vfio-pci"));
    }

    @Test
    void noGroupNoDriverNoDeviceUnknownDriver() {
        sys.device(NIC, "8086:10d3", 0x020000, null, -1);
        assertTrue(refusals(NIC, "vfio-pci").get(0).problem().endsWith("has no IOMMU group, so vfio-pci cannot take it"));
        assertEquals("no PCI device 0000:09:00.0", refusals("0000:09:00.0", "vfio-pci").get(0).problem());
        assertEquals("unknown driver nvme", refusals(EDU, "nvme").get(0).problem());
        FakeSysfs bare = new FakeSysfs(tmp.resolve("bare")).device(EDU, "1234:11e8", 0, null, 1);
        DriverBinding.Refusal r = new DriverBinding(bare.tree).refusals(EDU, "vfio-pci").get(0);
        assertEquals("the vfio-pci driver is not loaded", r.problem());
        assertEquals("modprobe vfio-pci", r.remedy());
    }

    /** Seen in the rig's no-IOMMU guest: vfio-pci takes a device without a group in VFIO's no-IOMMU mode. */
    @Test
    void noIommuModeLetsVfioTakeADeviceWithoutAGroup() {
        sys.device(NIC, "8086:10d3", 0x020000, null, -1)
                .file("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y");
        assertEquals(List.of(), refusals(NIC, "vfio-pci"));
    }

    @Test
    void bindWritesOverrideUnbindsAndProbesThenChecksTheResult() throws IOException {
        sys.bind(EDU, "edu");
        // A fake kernel does not probe, so the device stays on its driver and bind says so.
        IOException e = assertThrows(IOException.class, () -> new DriverBinding(sys.tree).bind(EDU, "vfio-pci"));
        assertEquals("failed to bind 0000:00:04.0 to vfio-pci: it is now bound to edu; see dmesg for the driver's reason",
                e.getMessage());
        assertEquals("vfio-pci", sys.read("/sys/bus/pci/devices/" + EDU + "/driver_override"));
        assertEquals(EDU, sys.read("/sys/bus/pci/drivers/edu/unbind"));
        assertEquals(EDU, sys.read("/sys/bus/pci/drivers_probe"));
    }

    @Test
    void bindRefusesBeforeWritingAnything() {
        sys.device(NVME, "8086:5845", NVME_CLASS, "nvme", 3);
        IOException e = assertThrows(IOException.class, () -> new DriverBinding(sys.tree).bind(EDU, "vfio-pci"));
        assertTrue(e.getMessage().startsWith("refused to bind 0000:00:04.0 to vfio-pci: IOMMU group 3 would not be viable"),
                e.getMessage());
        assertEquals("(null)", sys.read("/sys/bus/pci/devices/" + EDU + "/driver_override"));
    }

    @Test
    void bindingToTheDriverItHasIsANoOp() throws IOException {
        sys.bind(EDU, "vfio-pci");
        DriverBinding.Outcome o = new DriverBinding(sys.tree).bind(EDU, "vfio-pci");
        assertEquals(new DriverBinding.Outcome(EDU, "vfio-pci", "vfio-pci"), o);
    }

    @Test
    void unbindClearsTheOverrideAndReprobes() throws IOException {
        sys.bind(EDU, "vfio-pci");
        new DriverBinding(sys.tree).unbind(EDU, true);
        assertEquals(EDU, sys.read("/sys/bus/pci/drivers/vfio-pci/unbind"));
        assertEquals("", sys.read("/sys/bus/pci/devices/" + EDU + "/driver_override"));
        assertEquals(EDU, sys.read("/sys/bus/pci/drivers_probe"));
    }
}
