package io.dmadirect.cli.system;

import io.dmadirect.linux.sysfs.FakeSysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Sizes;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.headers.Capability;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each doctor check on a fake host: the verdict, and that the remedy is the command that fixes it. */
class HostChecksTest {
    private static final ProcessCapabilities NONE = new ProcessCapabilities(0);
    private static final Rlimit UNLIMITED = new Rlimit(-1L, -1L);
    private static final long RAM_36_BITS = (64 * Sizes.GiB) - 1;

    @TempDir
    Path tmp;

    private static HostChecks.Inputs inputs() {
        return new HostChecks.Inputs(UNLIMITED, NONE, 1000, RAM_36_BITS, null, 0, 64 * Sizes.MiB);
    }

    private HostChecks checks(FakeSysfs sys, HostChecks.Inputs in) {
        return new HostChecks(sys.tree, in);
    }

    private FakeSysfs iommuHost() {
        return new FakeSysfs(tmp).intelIommu("dmar0", 48).file("/sys/kernel/iommu_groups/0/type", "DMA")
                .file("/proc/cmdline", "root=/dev/vda intel_iommu=on iommu=pt");
    }

    @Test
    void iommuOffFailsAndNamesTheCommandLine() {
        FakeSysfs sys = new FakeSysfs(tmp).file("/proc/cpuinfo", "vendor_id\t: AuthenticAMD\n");
        Check c = checks(sys, inputs()).iommuOn();
        assertEquals(Check.Verdict.FAIL, c.verdict());
        assertTrue(c.finding().contains("amd_iommu=on is missing from the kernel command line"), c.finding());
        assertTrue(c.remedy().startsWith("add `amd_iommu=on iommu=pt` to GRUB_CMDLINE_LINUX"), c.remedy());
    }

    @Test
    void iommuOnCommandLineButNoUnitPointsAtFirmware() {
        FakeSysfs sys = new FakeSysfs(tmp).file("/proc/cmdline", "intel_iommu=on");
        Check c = checks(sys, inputs()).iommuOn();
        assertEquals(Check.Verdict.FAIL, c.verdict());
        assertTrue(c.finding().contains("enable VT-d / AMD-Vi in the firmware"), c.finding());
    }

    @Test
    void iommuOnPasses() {
        Check c = checks(iommuHost(), inputs()).iommuOn();
        assertEquals(Check.Verdict.PASS, c.verdict(), c.toString());
        assertTrue(c.finding().contains("iommu=pt"), c.finding());
    }

    @Test
    void noIommuModeWarns() {
        FakeSysfs sys = new FakeSysfs(tmp).file("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y");
        Check c = checks(sys, inputs()).noIommuMode();
        assertEquals(Check.Verdict.WARN, c.verdict());
        assertTrue(c.remedy().startsWith("echo N > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode"), c.remedy());
    }

    @Test
    void aVfioGroupWithAHostDriverFails() {
        FakeSysfs sys = iommuHost().device("0000:00:04.0", "1234:11e8", 0xff00, "vfio-pci", 7)
                .device("0000:00:05.0", "8086:5845", 0x010802, "nvme", 7);
        Check c = checks(sys, inputs()).groupsViable();
        assertEquals(Check.Verdict.FAIL, c.verdict());
        assertEquals("group 7 is not viable: 0000:00:05.0 is bound to nvme", c.finding());
        assertTrue(c.remedy().endsWith("dmadirect bind 0000:00:05.0"), c.remedy());
    }

    @Test
    void aViableGroupPasses() {
        FakeSysfs sys = iommuHost().device("0000:00:04.0", "1234:11e8", 0xff00, "vfio-pci", 7);
        assertEquals(Check.Verdict.PASS, checks(sys, inputs()).groupsViable().verdict());
    }

    @Test
    void iovaWidthNarrowerThanTheMaskWarns() {
        FakeSysfs sys = iommuHost().intelIommu("dmar0", 39);
        HostChecks.Inputs in = new HostChecks.Inputs(UNLIMITED, NONE, 0, RAM_36_BITS, null, 64, 0);
        Check c = checks(sys, in).iovaWidth();
        assertEquals(Check.Verdict.WARN, c.verdict());
        assertTrue(c.finding().startsWith("the IOMMU translates 39-bit IOVAs, narrower than the device's 64-bit mask"),
                c.finding());
        assertEquals(Check.Verdict.PASS, checks(iommuHost(), in).iovaWidth().verdict(), "48 bits hold every user address");
    }

    @Test
    void iovaWidthNarrowerThanRamWarns() {
        FakeSysfs sys = iommuHost().intelIommu("dmar0", 39);
        HostChecks.Inputs in = new HostChecks.Inputs(UNLIMITED, NONE, 0, (1L << 40) - 1, null, 0, 0);
        Check c = checks(sys, in).iovaWidth();
        assertEquals(Check.Verdict.WARN, c.verdict());
        assertTrue(c.finding().contains("RAM reaches 40 bits"), c.finding());
    }

    @Test
    void noHugepagesFailWithTheReserveCommand() {
        FakeSysfs sys = new FakeSysfs(tmp).hugepages("hugepages-2048kB", 0, 0);
        Check c = checks(sys, inputs()).hugepages();
        assertEquals(Check.Verdict.FAIL, c.verdict());
        assertTrue(c.remedy().contains("echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), c.remedy());
        assertTrue(c.remedy().contains("dmadirect hugepages --reserve 512"), c.remedy());
        sys.hugepages("hugepages-2048kB", 64, 0);
        assertEquals(Check.Verdict.WARN, checks(sys, inputs()).hugepages().verdict());
        sys.hugepages("hugepages-2048kB", 64, 10);
        assertEquals(Check.Verdict.PASS, checks(sys, inputs()).hugepages().verdict());
    }

    @Test
    void aConfiguredHugetlbfsThatIsNotMountedFails() {
        FakeSysfs sys = new FakeSysfs(tmp).file("/etc/fstab",
                "UUID=1 / ext4 defaults 0 1\nnodev /dev/hugepages hugetlbfs pagesize=2M 0 0\n");
        Check c = checks(sys, inputs()).hugetlbfsMounts();
        assertEquals(Check.Verdict.FAIL, c.verdict());
        assertEquals("mkdir -p /dev/hugepages && mount /dev/hugepages", c.remedy());
        sys.mountinfo("40 22 0:45 / /dev/hugepages rw,relatime shared:20 - hugetlbfs hugetlbfs rw,pagesize=2M\n");
        Check ok = checks(sys, inputs()).hugetlbfsMounts();
        assertEquals(Check.Verdict.PASS, ok.verdict());
        assertEquals("mounted: /dev/hugepages (pagesize=2M)", ok.finding());
    }

    @Test
    void memlockBelowWhatIsPinnedFailsUnlessCapIpcLock() {
        HostChecks.Inputs low = new HostChecks.Inputs(new Rlimit(8 * Sizes.MiB, 8 * Sizes.MiB), NONE, 1000, -1, null, 0,
                64 * Sizes.MiB);
        FakeSysfs sys = new FakeSysfs(tmp);
        Check c = checks(sys, low).memlock();
        assertEquals(Check.Verdict.FAIL, c.verdict());
        assertTrue(c.remedy().contains("ulimit -l unlimited"), c.remedy());
        HostChecks.Inputs capable = new HostChecks.Inputs(low.memlock(),
                new ProcessCapabilities(1L << Capability.CAP_IPC_LOCK), 1000, -1, null, 0, 64 * Sizes.MiB);
        assertEquals(Check.Verdict.PASS, checks(sys, capable).memlock().verdict());
    }

    @Test
    void everyCheckRunsOnAnEmptyHost() {
        assertEquals(9, checks(new FakeSysfs(tmp), inputs()).run().size());
    }

    @Test
    void iommufdSaysWhichInterfaceSessionsUse() {
        FakeSysfs sys = iommuHost();
        Check none = checks(sys, inputs()).iommufd();
        assertEquals(Check.Verdict.PASS, none.verdict());
        assertTrue(none.finding().startsWith("not offered by this kernel (no /dev/iommu)"), none.finding());
        sys.file("/dev/iommu", "").file("/dev/vfio/devices/vfio0", "").file("/dev/vfio/devices/vfio1", "");
        Check offered = checks(sys, inputs()).iommufd();
        assertEquals(Check.Verdict.PASS, offered.verdict());
        assertEquals("/dev/iommu and 2 device cdev(s) in /dev/vfio/devices: IOVA-mode sessions map through iommufd",
                offered.finding());
    }
}
