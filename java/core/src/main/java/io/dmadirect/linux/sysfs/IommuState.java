package io.dmadirect.linux.sysfs;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * The IOMMU as the kernel reports it: the hardware units it drives (/sys/class/iommu), whether it made
 * groups, the address width, and whether VFIO's unsafe no-IOMMU mode is on.
 *
 * <p>The width is Intel VT-d's MGAW, bits 21:16 of the capability register plus one, as DPDK's
 * {@code pci_one_device_iommu_support_va()} reads it; other IOMMUs do not report a width in sysfs, and
 * it is then unknown (-1).
 *
 * @param units        the IOMMU units (dmar0, ivhd0, ...)
 * @param groups       how many IOMMU groups exist
 * @param addressWidth the narrowest unit's width in bits, or -1 when unknown
 * @param noIommuMode  {@code vfio.enable_unsafe_noiommu_mode} is on
 * @param iommufd      {@code /dev/iommu} exists: the kernel has iommufd (CONFIG_IOMMUFD, module loaded)
 * @param cmdline      the kernel command line, for the remedies
 */
public record IommuState(List<String> units, int groups, int addressWidth, boolean noIommuMode, boolean iommufd,
        KernelCmdline cmdline) {

    public static IommuState read(HostTree tree) {
        List<String> units = tree.list("/sys/class/iommu");
        int width = -1;
        for (String unit : units) {
            OptionalInt w = width(tree, tree.path("/sys/class/iommu").resolve(unit));
            if (w.isPresent()) {
                width = width < 0 ? w.getAsInt() : Math.min(width, w.getAsInt());
            }
        }
        boolean noIommu = tree.read("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode")
                .map(v -> v.equals("Y") || v.equals("1")).orElse(false);
        return new IommuState(units, tree.list("/sys/kernel/iommu_groups").size(), width, noIommu,
                Files.exists(tree.path("/dev/iommu")), KernelCmdline.read(tree));
    }

    /** The width of the IOMMU unit behind one device ({@code <device>/iommu}), or empty. */
    public static OptionalInt deviceWidth(HostTree tree, Path deviceDir) {
        return width(tree, deviceDir.resolve("iommu"));
    }

    static OptionalInt width(HostTree tree, Path unit) {
        Path cap = unit.resolve("intel-iommu/cap");
        if (!Files.exists(cap)) {
            return OptionalInt.empty();
        }
        return tree.read(cap).map(t -> Long.parseUnsignedLong(t, 16))
                .map(c -> OptionalInt.of((int) ((c >>> 16) & 0x3f) + 1)).orElse(OptionalInt.empty());
    }

    /** The kernel translates DMA: there are IOMMU units with groups, and no-IOMMU mode is not what made them. */
    public boolean enabled() {
        return !units.isEmpty() && groups > 0;
    }

    /** {@code iommu=pt} or {@code iommu.passthrough=1}: host devices bypass translation, VFIO devices do not. */
    public boolean passthrough() {
        return cmdline.has("iommu", "pt") || cmdline.has("iommu.passthrough", "1");
    }
}
