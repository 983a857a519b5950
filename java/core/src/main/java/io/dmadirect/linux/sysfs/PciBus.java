package io.dmadirect.linux.sysfs;


import io.dmadirect.pci.PciAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The PCI devices of /sys/bus/pci, their IOMMU groups, and what the host uses them for: block devices
 * and network interfaces, found by the sysfs path of the block or net device lying under the PCI
 * device's own (as lsblk and dpdk-devbind find them); and the few links and lists a PCI session reads before it
 * opens a device (its driver, IOMMU group, VFIO cdev, UIO node), so sessions and the CLI read sysfs in one place.
 */
public final class PciBus {
    private static final String DEVICES = "/sys/bus/pci/devices";
    /** Config space offset of the header type; bit 7 only marks a multi-function device. */
    private static final int HEADER_TYPE = 0x0e;

    private final HostTree tree;

    public PciBus(HostTree tree) {
        this.tree = tree;
    }

    public Path deviceDir(String address) {
        return tree.path(DEVICES).resolve(address);
    }

    public List<PciFunction> devices() {
        List<PciFunction> found = new ArrayList<>();
        for (String address : tree.list(DEVICES)) {
            device(address).ifPresent(found::add);
        }
        return found;
    }

    public Optional<PciFunction> device(String address) {
        Path dir = deviceDir(address);
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        int classCode = hex(tree.read(dir.resolve("class")), 0);
        String override = tree.read(dir.resolve("driver_override")).filter(s -> !s.isEmpty() && !s.equals("(null)"))
                .orElse(null);
        int group = tree.linkName(dir.resolve("iommu_group")).map(Integer::parseInt).orElse(-1);
        int node = tree.read(dir.resolve("numa_node")).map(Integer::parseInt).orElse(-1);
        return Optional.of(new PciFunction(address, hex(tree.read(dir.resolve("vendor")), 0),
                hex(tree.read(dir.resolve("device")), 0), classCode, isBridge(dir, classCode),
                tree.linkName(dir.resolve("driver")).orElse(null), override, group, node));
    }

    /** Header type from config space when readable, else from the class: PCI-PCI (0x0604), CardBus (0x0607), 0x0609. */
    private static boolean isBridge(Path dir, int classCode) {
        try {
            byte[] config = Files.readAllBytes(dir.resolve("config"));
            if (config.length > HEADER_TYPE) {
                return (config[HEADER_TYPE] & 0x7f) != 0;
            }
        } catch (IOException e) {
            // fall through to the class code
        }
        int cls = classCode >>> 8;
        return cls == 0x0604 || cls == 0x0607 || cls == 0x0609;
    }

    public Path deviceDir(PciAddress address) {
        return deviceDir(address.toString());
    }

    /** The driver bound to {@code address} (its {@code driver} link); empty when none. */
    public Optional<String> driverOf(PciAddress address) {
        return tree.linkName(deviceDir(address).resolve("driver"));
    }

    /** The IOMMU group of {@code address} ({@code N} of its {@code iommu_group} link); empty when it has none. */
    public Optional<String> iommuGroupOf(PciAddress address) {
        return tree.linkName(deviceDir(address).resolve("iommu_group"));
    }

    /** Whether {@code /dev/vfio/noiommu-N} exists for {@code group}: vfio-pci in no-IOMMU mode. */
    public boolean noIommuGroup(String group) {
        return Files.exists(tree.path("/dev/vfio/noiommu-" + group));
    }

    /** The name of the device's VFIO cdev ({@code vfioN}) from its {@code vfio-dev/} (Linux 6.1+); empty when none. */
    public Optional<String> vfioCdev(PciAddress address) {
        return tree.list(deviceDir(address).resolve("vfio-dev")).stream().filter(n -> n.startsWith("vfio")).findFirst();
    }

    /** The node of that cdev, {@code /dev/vfio/devices/vfioN} (which may not exist: it needs Linux 6.6+). */
    public Path vfioCdevNode(String cdev) {
        return tree.path("/dev/vfio/devices").resolve(cdev);
    }

    /** The UIO node of a device bound to a UIO driver ({@code uioN} from its {@code uio/}); empty when none. */
    public Optional<String> uioNode(PciAddress address) {
        return tree.list(deviceDir(address).resolve("uio")).stream().findFirst();
    }

    /** The lines of the device's {@code resource} file (start, end, flags of each region); empty when unreadable. */
    public List<String> resourceLines(PciAddress address) {
        return tree.read(deviceDir(address).resolve("resource")).map(t -> t.lines().collect(Collectors.toList()))
                .orElse(List.of());
    }

    /** A device listed in an IOMMU group's {@code devices/}, and its driver (null when none). */
    public record GroupMember(String address, String driver) {
    }

    /** {@code /sys/kernel/iommu_groups/N/devices}. */
    public Path groupDevicesDir(String group) {
        return tree.path("/sys/kernel/iommu_groups").resolve(group).resolve("devices");
    }

    /** The devices of IOMMU group {@code group}, sorted, each with its driver; empty when the group is not there. */
    public Optional<List<GroupMember>> groupMembers(String group) {
        Path dir = groupDevicesDir(group);
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        return Optional.of(tree.list(dir).stream()
                .map(name -> new GroupMember(name, tree.linkName(dir.resolve(name).resolve("driver")).orElse(null)))
                .collect(Collectors.toList()));
    }

    /** The IOMMU groups by number, each with its PCI members. */
    public Map<Integer, IommuGroup> groups() {
        Map<Integer, List<PciFunction>> members = new TreeMap<>();
        for (PciFunction d : devices()) {
            if (d.iommuGroup() >= 0) {
                members.computeIfAbsent(d.iommuGroup(), g -> new ArrayList<>()).add(d);
            }
        }
        Map<Integer, IommuGroup> groups = new TreeMap<>();
        members.forEach((n, list) -> groups.put(n, new IommuGroup(n, List.copyOf(list))));
        return groups;
    }

    public Optional<IommuGroup> groupOf(PciFunction d) {
        return d.iommuGroup() < 0 ? Optional.empty() : Optional.ofNullable(groups().get(d.iommuGroup()));
    }

    /** Whether the kernel has this PCI driver (loaded, or built in). */
    public boolean driverLoaded(String driver) {
        return Files.isDirectory(tree.path("/sys/bus/pci/drivers").resolve(driver));
    }

    /** A block device (disk or partition) that lives on a PCI device, and what holds it. */
    public record BlockUse(String name, String majorMinor, String usedAs) {
    }

    /** The block devices of {@code address} that are mounted, swapped on, or held (by dm, md, ...). */
    public List<BlockUse> blockDevicesInUse(String address, Mounts mounts) {
        List<String> swaps = tree.read("/proc/swaps").map(PciBus::swapNames).orElse(List.of());
        List<BlockUse> used = new ArrayList<>();
        for (Path dir : below(address, "/sys/block")) {
            List<Path> parts = new ArrayList<>(List.of(dir));
            for (String child : tree.list(dir)) {
                if (child.startsWith(dir.getFileName().toString()) && Files.exists(dir.resolve(child).resolve("dev"))) {
                    parts.add(dir.resolve(child));
                }
            }
            for (Path part : parts) {
                String name = part.getFileName().toString();
                String dev = tree.read(part.resolve("dev")).orElse("");
                Optional<Mounts.Mount> mount = mounts.byDevice(dev);
                List<String> holders = tree.list(part.resolve("holders"));
                if (mount.isPresent()) {
                    used.add(new BlockUse(name, dev, "mounted on " + mount.get().mountPoint()));
                } else if (swaps.contains(name)) {
                    used.add(new BlockUse(name, dev, "swap"));
                } else if (!holders.isEmpty()) {
                    used.add(new BlockUse(name, dev, "held by " + String.join(", ", holders)));
                }
            }
        }
        return used;
    }

    /** The network interfaces of {@code address} that are up (IFF_UP). */
    public List<String> activeInterfaces(String address) {
        return below(address, "/sys/class/net").stream()
                .filter(dir -> (hex(tree.read(dir.resolve("flags")), 0) & 0x1) != 0)
                .map(dir -> dir.getFileName().toString())
                .collect(Collectors.toList());
    }

    /** The entries of a class directory whose device path lies under the PCI device's. */
    private List<Path> below(String address, String classDir) {
        Optional<Path> device = tree.realPath(deviceDir(address));
        if (device.isEmpty()) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        for (String name : tree.list(classDir)) {
            Path entry = tree.path(classDir).resolve(name);
            tree.realPath(entry).filter(real -> real.startsWith(device.get())).ifPresent(real -> found.add(entry));
        }
        return found;
    }

    private static List<String> swapNames(String swaps) {
        return swaps.lines().skip(1).map(l -> l.split("\\s+")[0]).filter(p -> p.startsWith("/dev/"))
                .map(p -> p.substring("/dev/".length())).collect(Collectors.toList());
    }

    static int hex(Optional<String> text, int otherwise) {
        return text.map(t -> t.startsWith("0x") ? t.substring(2) : t)
                .filter(t -> !t.isEmpty())
                .map(t -> (int) Long.parseLong(t, 16)).orElse(otherwise);
    }
}
