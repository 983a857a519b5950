package io.dmadirect.linux.sysfs;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The text formats of /proc and /sys, from samples of real hosts. */
class ParsersTest {
    @TempDir
    Path tmp;

    @Test
    void mountinfoGivesDeviceNumbersAndUnescapesPaths() {
        Mounts m = Mounts.parse("""
                22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
                41 22 0:45 / /mnt/huge\\0401G rw,relatime - hugetlbfs nodev rw,pagesize=1024M
                50 22 0:50 / /run/user rw - tmpfs tmpfs
                """);
        assertEquals(3, m.all().size());
        assertEquals("/", m.byDevice("259:2").orElseThrow().mountPoint());
        Mounts.Mount huge = m.ofType("hugetlbfs").get(0);
        assertEquals("/mnt/huge 1G", huge.mountPoint());
        assertEquals("1024M", huge.pageSizeOption());
        assertNull(m.all().get(2).pageSizeOption());
    }

    @Test
    void cmdlineStopsAtTheInitArguments() {
        KernelCmdline c = KernelCmdline.parse("BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt quiet -- --init-arg=1");
        assertTrue(c.has("intel_iommu", "on"));
        assertEquals("", c.get("quiet"));
        assertNull(c.get("--init-arg"));
    }

    @Test
    void zoneinfoGivesEachZone() {
        List<Zones.ZoneInfo> zones = Zones.parse("""
                Node 0, zone      DMA
                  pages free     3840
                        spanned  4095
                        present  3998
                        managed  3840
                  start_pfn:           1
                Node 0, zone    DMA32
                  pages free     100
                        spanned  1044480
                        present  782336
                        managed  772808
                  start_pfn:           4096
                Node 1, zone   Normal
                        spanned  5505024
                        present  5505024
                        managed  5394266
                  start_pfn:           1048576
                """);
        assertEquals(3, zones.size());
        assertEquals(new Zones.ZoneInfo(0, "DMA", 1, 4095, 3998, 3840), zones.get(0));
        assertEquals(new Zones.ZoneInfo(1, "Normal", 1048576, 5505024, 5505024, 5394266), zones.get(2));
    }

    @Test
    void intelCapabilityGivesTheGuestAddressWidth() {
        // QEMU's intel-iommu with aw-bits=39 and 48.
        FakeSysfs sys = new FakeSysfs(tmp).intelIommu("dmar0", 39).intelIommu("dmar1", 48)
                .file("/sys/kernel/iommu_groups/0/type", "DMA");
        IommuState s = IommuState.read(sys.tree);
        assertEquals(List.of("dmar0", "dmar1"), s.units());
        assertEquals(39, s.addressWidth(), "the narrowest unit");
        assertTrue(s.enabled());
        assertEquals(48, IommuState.width(sys.tree, sys.tree.path("/sys/class/iommu/dmar1")).getAsInt());
        assertFalse(s.iommufd(), "no /dev/iommu");
        sys.file("/dev/iommu", "");
        assertTrue(IommuState.read(sys.tree).iommufd(), "/dev/iommu: the kernel has iommufd");
    }

    @Test
    void pciDevicesWithDriverGroupAndBridgeFlag() {
        FakeSysfs sys = new FakeSysfs(tmp).device("0000:00:01.0", "8086:7191", 0x060400, "pcieport", 2)
                .device("0000:00:04.0", "1234:11e8", 0x00ff00, null, 2);
        PciBus bus = new PciBus(sys.tree);
        PciFunction bridge = bus.device("0000:00:01.0").orElseThrow();
        assertTrue(bridge.bridge());
        assertEquals("pcieport", bridge.driver());
        PciFunction edu = bus.device("0000:00:04.0").orElseThrow();
        assertEquals("1234:11e8", edu.id());
        assertEquals(2, edu.iommuGroup());
        assertNull(edu.driverOverride());
        assertTrue(bus.groups().get(2).viable());
    }

    @Test
    void hugepagePoolsPerNodeAndReserve() throws Exception {
        FakeSysfs sys = new FakeSysfs(tmp).hugepages("hugepages-2048kB", 8, 8)
                .file("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "4")
                .file("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "3")
                .file("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "4")
                .file("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages", "4");
        HugepagePools pools = new HugepagePools(sys.tree);
        assertEquals(List.of(0, 1), pools.nodes());
        assertEquals(3, pools.pools().size());
        assertEquals(new HugepagePools.Pool(io.dmadirect.linux.hugepages.HugepageSize.SIZE_2M, 0, 4, 3), pools.pools().get(1));
        pools.reserve(io.dmadirect.linux.hugepages.HugepageSize.SIZE_2M, 1, 16);
        assertEquals("16", sys.read("/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"));
    }

    @Test
    void theRealHostReadsWithoutErrors() {
        // Whatever this host has, the readers answer (possibly empty) without throwing.
        new PciBus(HostTree.HOST).devices();
        IommuState.read(HostTree.HOST);
        Mounts m = Mounts.read(HostTree.HOST);
        assertTrue(m.all().stream().anyMatch(x -> x.mountPoint().equals("/")), "/ is mounted");
    }
}
