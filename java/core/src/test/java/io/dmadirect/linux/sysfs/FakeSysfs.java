package io.dmadirect.linux.sysfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fake host tree in a temporary directory, laid out as the kernel lays out sysfs: devices under
 * /sys/devices/pci0000:00, with /sys/bus/pci/devices, /sys/block and /sys/class/net as symlinks into it,
 * so the readers resolve paths exactly as on a host.
 */
public final class FakeSysfs {
    public final Path root;
    public final HostTree tree;

    public FakeSysfs(Path root) {
        this.root = root;
        this.tree = new HostTree(root);
        file("/proc/self/mountinfo", "");
        file("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet");
        dir("/sys/bus/pci/devices");
        dir("/sys/kernel/iommu_groups");
    }

    private Path deviceDir(String address) {
        return root.resolve("sys/devices/pci0000:00").resolve(address);
    }

    /** A PCI function with a class code, in {@code group} (-1: none), bound to {@code driver} (null: none). */
    public FakeSysfs device(String address, String id, int classCode, String driver, int group) {
        Path dev = deviceDir(address);
        write(dev.resolve("vendor"), "0x" + id.substring(0, 4));
        write(dev.resolve("device"), "0x" + id.substring(5));
        write(dev.resolve("class"), String.format("0x%06x", classCode));
        write(dev.resolve("driver_override"), "(null)");
        write(dev.resolve("numa_node"), "0");
        link(root.resolve("sys/bus/pci/devices").resolve(address), dev);
        if (driver != null) {
            bind(address, driver);
        }
        if (group >= 0) {
            Path g = root.resolve("sys/kernel/iommu_groups").resolve(Integer.toString(group));
            dir(g.resolve("devices"));
            link(dev.resolve("iommu_group"), g);
        }
        return this;
    }

    public FakeSysfs bind(String address, String driver) {
        Path drv = root.resolve("sys/bus/pci/drivers").resolve(driver);
        dir(drv);
        write(drv.resolve("unbind"), "");
        link(deviceDir(address).resolve("driver"), drv);
        return this;
    }

    public FakeSysfs driverLoaded(String driver) {
        dir(root.resolve("sys/bus/pci/drivers").resolve(driver));
        return this;
    }

    /** A disk (with partitions name+"p1"...) on the device; major:minor 259:N. */
    public FakeSysfs disk(String address, String name, int minor, int partitions) {
        Path disk = deviceDir(address).resolve("nvme/nvme0").resolve(name);
        write(disk.resolve("dev"), "259:" + minor);
        dir(disk.resolve("holders"));
        for (int p = 1; p <= partitions; p++) {
            Path part = disk.resolve(name + "p" + p);
            write(part.resolve("dev"), "259:" + (minor + p));
            dir(part.resolve("holders"));
        }
        link(root.resolve("sys/block").resolve(name), disk);
        return this;
    }

    public FakeSysfs netdev(String address, String name, boolean up) {
        Path net = deviceDir(address).resolve("net").resolve(name);
        write(net.resolve("flags"), up ? "0x1003" : "0x1002");
        link(root.resolve("sys/class/net").resolve(name), net);
        return this;
    }

    public FakeSysfs mountinfo(String text) {
        return file("/proc/self/mountinfo", text);
    }

    public FakeSysfs file(String absolute, String text) {
        write(tree.path(absolute), text);
        return this;
    }

    public FakeSysfs hugepages(String sizeDir, long total, long free) {
        file("/sys/kernel/mm/hugepages/" + sizeDir + "/nr_hugepages", Long.toString(total));
        file("/sys/kernel/mm/hugepages/" + sizeDir + "/free_hugepages", Long.toString(free));
        return file("/sys/kernel/mm/hugepages/" + sizeDir + "/resv_hugepages", "0");
    }

    /** An Intel IOMMU unit whose capability register says {@code width}-bit guest addresses. */
    public FakeSysfs intelIommu(String unit, int width) {
        long cap = 0xd2008c40660462L & ~(0x3fL << 16) | ((long) (width - 1) << 16);
        return file("/sys/class/iommu/" + unit + "/intel-iommu/cap", Long.toHexString(cap));
    }

    public String read(String absolute) {
        return tree.read(absolute).orElseThrow();
    }

    private void dir(String absolute) {
        dir(tree.path(absolute));
    }

    private static void dir(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path p, String text) {
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void link(Path link, Path target) {
        try {
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, link.getParent().relativize(target));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
