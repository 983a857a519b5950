package io.dmadirect.cli.system;

import io.dmadirect.linux.sysfs.Mounts;

import io.dmadirect.linux.hugepages.HugepageRemedies;

import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.HugepagePools;
import io.dmadirect.linux.sysfs.IommuGroup;
import io.dmadirect.linux.sysfs.IommuState;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.sysfs.PciFunction;

import io.dmadirect.Sizes;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Remedies;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.headers.Capability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * What {@code dmadirect doctor} checks: the setup steps users of DPDK and SPDK most often get stuck on,
 * each a small function from what the host shows to a {@link Check}. Nothing here changes the host.
 */
public final class HostChecks {

    /**
     * What the checks look at besides the tree.
     *
     * @param memlock      this process's RLIMIT_MEMLOCK
     * @param caps         this process's capabilities
     * @param uid          this process's user id (0: root)
     * @param highestRam   the last physical address of RAM, or -1 when unknown
     * @param device       a PCI address to check in particular, or null for all devices bound to VFIO
     * @param maskBits     the DMA mask the device's driver will set, or 0 when not given
     * @param memlockBytes how much memory the driver will pin
     */
    public record Inputs(Rlimit memlock, ProcessCapabilities caps, int uid, long highestRam, String device,
            int maskBits, long memlockBytes) {
    }

    /** x86-64 user virtual addresses fit in 47 bits; DPDK compares the IOMMU width with them for VA mode. */
    static final int USER_VA_BITS = 48;

    private final HostTree tree;
    private final Inputs in;
    private final PciBus bus;
    private final IommuState iommu;

    public HostChecks(HostTree tree, Inputs in) {
        this.tree = tree;
        this.in = in;
        this.bus = new PciBus(tree);
        this.iommu = IommuState.read(tree);
    }

    public List<Check> run() {
        List<Check> checks = new ArrayList<>();
        checks.add(iommuOn());
        checks.add(noIommuMode());
        checks.add(groupsViable());
        checks.add(iovaWidth());
        checks.add(hugepages());
        checks.add(hugetlbfsMounts());
        checks.add(memlock());
        checks.add(vfioPermissions());
        checks.add(iommufd());
        return checks;
    }

    Check iommuOn() {
        String name = "iommu";
        if (iommu.enabled()) {
            return Check.pass(name, "on: " + String.join(", ", iommu.units()) + ", " + iommu.groups() + " groups"
                    + (iommu.passthrough() ? " (iommu=pt: host drivers bypass it, VFIO devices do not)" : ""));
        }
        String param = cpuVendor().equals("AuthenticAMD") ? "amd_iommu=on" : "intel_iommu=on";
        String remedy = "add `" + param + " iommu=pt` to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub "
                + "(or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot; in a VM, give it an IOMMU "
                + "(QEMU: -device intel-iommu,intremap=on with -machine q35,kernel-irqchip=split)";
        String seen = iommu.cmdline().get(param.substring(0, param.indexOf('='))) == null
                ? "off: no IOMMU units in /sys/class/iommu and " + param + " is missing from the kernel command line"
                : "off: the command line has " + param.substring(0, param.indexOf('=')) + "="
                        + iommu.cmdline().get(param.substring(0, param.indexOf('='))) + " but no IOMMU unit came up "
                        + "(enable VT-d / AMD-Vi in the firmware)";
        return Check.fail(name, seen + "; vfio-pci cannot isolate devices", remedy);
    }

    Check noIommuMode() {
        String name = "no-iommu-mode";
        if (!iommu.noIommuMode()) {
            return Check.pass(name, "off");
        }
        return Check.warn(name, "VFIO's unsafe no-IOMMU mode is on: devices are not isolated and DMA uses "
                + "physical addresses (PA mode, root only)",
                "echo N > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode once the IOMMU is on, and drop "
                        + "vfio.enable_unsafe_noiommu_mode=1 from the kernel command line or modprobe.d");
    }

    Check groupsViable() {
        String name = "iommu-groups";
        List<IommuGroup> wanted = new ArrayList<>();
        for (IommuGroup g : bus.groups().values()) {
            boolean mine = in.device() != null
                    ? g.members().stream().anyMatch(d -> d.address().equals(in.device()))
                    : g.members().stream().anyMatch(PciFunction::boundToVfio);
            if (mine) {
                wanted.add(g);
            }
        }
        if (wanted.isEmpty()) {
            return Check.pass(name, in.device() != null ? in.device() + " has no IOMMU group"
                    : "no device is bound to VFIO, so no group must be viable");
        }
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        for (IommuGroup g : wanted) {
            List<PciFunction> blockers = in.device() != null ? g.blockersBesides(in.device()) : g.blockers();
            if (!blockers.isEmpty()) {
                problems.add("group " + g.number() + " is not viable: " + blockers.stream()
                        .map(d -> d.address() + " is bound to " + d.driver()).collect(Collectors.joining(", ")));
                blockers.forEach(d -> fixes.add("dmadirect bind " + d.address()));
            }
        }
        if (problems.isEmpty()) {
            return Check.pass(name, wanted.size() + " group(s) viable: " + wanted.stream()
                    .map(g -> Integer.toString(g.number())).collect(Collectors.joining(", ")));
        }
        return Check.fail(name, String.join("; ", problems),
                "bind every member of the group to vfio-pci (or unbind it): " + String.join("; ", fixes));
    }

    Check iovaWidth() {
        String name = "iova-width";
        int width = iommu.addressWidth();
        if (in.device() != null) {
            OptionalInt w = IommuState.deviceWidth(tree, bus.deviceDir(in.device()));
            if (w.isPresent()) {
                width = w.getAsInt();
            }
        }
        if (!iommu.enabled()) {
            return Check.pass(name, "no IOMMU, so no IOVA width applies");
        }
        if (width < 0) {
            return Check.pass(name, "the IOMMU does not report its width in sysfs (not Intel VT-d)");
        }
        int ramBits = in.highestRam() > 0 ? 64 - Long.numberOfLeadingZeros(in.highestRam()) : 0;
        // A mask wider than the user address space (47 bits, 48 to be safe) asks for nothing a narrower IOMMU loses.
        if (Math.min(in.maskBits(), USER_VA_BITS) > width) {
            return Check.warn(name, "the IOMMU translates " + width + "-bit IOVAs, narrower than the device's "
                    + in.maskBits() + "-bit mask: IOVAs are placed below 2^" + width,
                    "nothing to do for dmadirect's IOVA mode; a driver that uses CPU virtual addresses as IOVAs "
                            + "(DPDK --iova-mode=va) needs a wider IOMMU (QEMU: intel-iommu,aw-bits=48)");
        }
        if (ramBits > width) {
            return Check.warn(name, "the IOMMU translates " + width + "-bit IOVAs but RAM reaches " + ramBits
                    + " bits: physical addresses cannot be used as IOVAs",
                    "use IOVA mode (dmadirect's default with VFIO), not PA mode, on this host");
        }
        return Check.pass(name, width + "-bit IOVAs" + (ramBits > 0 ? ", RAM needs " + ramBits + " bits" : "")
                + (in.maskBits() > 0 ? ", device mask " + in.maskBits() + " bits" : ""));
    }

    Check hugepages() {
        String name = "hugepages";
        HugepagePools pools = new HugepagePools(tree);
        long total = 0;
        long free = 0;
        List<String> seen = new ArrayList<>();
        for (HugepagePools.Pool p : pools.pools()) {
            if (p.node() == HugepagePools.ALL_NODES) {
                total += p.total() * p.size().bytes();
                free += p.free() * p.size().bytes();
                seen.add(p.size() + ": " + p.free() + " free of " + p.total());
            }
        }
        HugepageSize size = HugepageSize.SIZE_2M;
        String nr = pools.sysfs(HugepagePools.ALL_NODES).nrHugepagesPath(size).toString();
        if (seen.isEmpty()) {
            return Check.fail(name, "the kernel has no hugepage pools", "use a kernel with CONFIG_HUGETLBFS");
        }
        if (total == 0) {
            return Check.fail(name, "no hugepages are reserved (" + String.join(", ", seen) + ")",
                    HugepageRemedies.reserveHugepages(size, 512, 0, 0, hostPath(nr)));
        }
        if (free == 0) {
            return Check.warn(name, "all reserved hugepages are in use (" + String.join(", ", seen) + ")",
                    HugepageRemedies.reserveHugepages(size, 512, 0, total / size.bytes(), hostPath(nr)));
        }
        return Check.pass(name, String.join(", ", seen));
    }

    /** hugetlbfs mount points that /etc/fstab configures must be mounted; dmadirect itself needs none (memfd). */
    Check hugetlbfsMounts() {
        String name = "hugetlbfs";
        Mounts mounts = Mounts.read(tree);
        List<String> missing = new ArrayList<>();
        for (String line : tree.read("/etc/fstab").orElse("").split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && !f[0].startsWith("#") && f[2].equals("hugetlbfs")
                    && mounts.all().stream().noneMatch(m -> m.mountPoint().equals(f[1]) && m.fsType().equals("hugetlbfs"))) {
                missing.add(f[1]);
            }
        }
        if (!missing.isEmpty()) {
            return Check.fail(name, "configured in /etc/fstab but not mounted: " + String.join(", ", missing),
                    missing.stream().map(p -> "mkdir -p " + p + " && mount " + p).collect(Collectors.joining("; ")));
        }
        List<String> mounted = mounts.ofType("hugetlbfs").stream()
                .map(m -> m.mountPoint() + (m.pageSizeOption() != null ? " (pagesize=" + m.pageSizeOption() + ")" : ""))
                .collect(Collectors.toList());
        return Check.pass(name, mounted.isEmpty()
                ? "none mounted; dmadirect needs none (it uses memfd_create with MFD_HUGETLB), DPDK expects /dev/hugepages"
                : "mounted: " + String.join(", ", mounted));
    }

    Check memlock() {
        String name = "memlock";
        if (in.caps().has(Capability.CAP_IPC_LOCK)) {
            return Check.pass(name, "CAP_IPC_LOCK: RLIMIT_MEMLOCK does not apply");
        }
        if (in.memlock().allows(in.memlockBytes())) {
            return Check.pass(name, "RLIMIT_MEMLOCK " + limit(in.memlock().soft()) + " allows "
                    + Sizes.format(in.memlockBytes()));
        }
        return Check.fail(name, "RLIMIT_MEMLOCK is " + limit(in.memlock().soft()) + ", below the "
                + Sizes.format(in.memlockBytes()) + " a driver pins (VFIO counts every mapped page)",
                Remedies.memlockRaise());
    }

    /** Root can open anything; another user needs read and write on the container and each group. */
    Check vfioPermissions() {
        String name = "vfio-permissions";
        Path dir = tree.path("/dev/vfio");
        if (!Files.isDirectory(dir)) {
            return Check.pass(name, "/dev/vfio does not exist (vfio not loaded: modprobe vfio-pci)");
        }
        List<String> groups = tree.list(dir).stream().filter(n -> !n.equals("vfio") && !n.equals("devices"))
                .collect(Collectors.toList());
        if (in.uid() == 0) {
            return Check.pass(name, "running as root" + (groups.isEmpty() ? "" : "; for other users install "
                    + "dmadirect's udev rules (udev/install --group vfio)"));
        }
        List<String> denied = unopenable(concat(List.of("/dev/vfio/vfio"), groups.stream().map(n -> "/dev/vfio/" + n)
                .collect(Collectors.toList())));
        if (denied.isEmpty()) {
            return Check.pass(name, "this user can open /dev/vfio/vfio and " + groups.size() + " group(s)");
        }
        return Check.fail(name, "this user cannot open " + String.join(", ", denied),
                "install the udev rules: sudo udev/install --group vfio, then add the user to the group "
                        + "(usermod -aG vfio $USER) and log in again");
    }

    /**
     * Which interface IOVA-mode sessions map through by default ({@code IommuInterface.AUTO}): iommufd when the
     * kernel has it and this user may open {@code /dev/iommu} and the device cdevs, VFIO type1 otherwise. A
     * kernel with iommufd that this user may not use is a WARN: the sessions still work, through type1.
     */
    Check iommufd() {
        String name = "iommufd";
        if (!iommu.iommufd()) {
            return Check.pass(name, "not offered by this kernel (no /dev/iommu): IOVA-mode sessions map through the "
                    + "VFIO type1 container");
        }
        List<String> cdevs = tree.list("/dev/vfio/devices");
        if (in.uid() != 0) {
            List<String> denied = unopenable(concat(List.of("/dev/iommu"), cdevs.stream()
                    .map(c -> "/dev/vfio/devices/" + c).collect(Collectors.toList())));
            if (!denied.isEmpty()) {
                return Check.warn(name, "the kernel has iommufd but this user cannot open " + String.join(", ", denied)
                        + ": IOVA-mode sessions fall back to the VFIO type1 container",
                        "install the udev rules (sudo udev/install --group vfio), which give /dev/iommu and the "
                                + "cdevs to the group, and add the user to it");
            }
        }
        return Check.pass(name, "/dev/iommu and " + cdevs.size() + " device cdev(s) in /dev/vfio/devices: IOVA-mode "
                + "sessions map through iommufd");
    }

    /** Of these device nodes (absolute host paths), those this user may not open read-write. */
    private List<String> unopenable(List<String> nodes) {
        return nodes.stream().filter(n -> !Files.isReadable(tree.path(n)) || !Files.isWritable(tree.path(n)))
                .collect(Collectors.toList());
    }

    private String cpuVendor() {
        for (String line : tree.read("/proc/cpuinfo").orElse("").split("\n")) {
            if (line.startsWith("vendor_id")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "";
    }

    /** A path under the tree's root as the user would type it on the host. */
    private String hostPath(String path) {
        return "/" + tree.root().relativize(Path.of(path));
    }

    private static String limit(long soft) {
        return soft == -1L ? "unlimited" : Sizes.format(soft);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
