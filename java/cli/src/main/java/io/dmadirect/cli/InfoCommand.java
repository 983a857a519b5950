package io.dmadirect.cli;

import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.host.ConfidentialComputing;
import io.dmadirect.linux.bridge.NativeLibrary;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.HugepagePools;
import io.dmadirect.linux.sysfs.IommuGroup;
import io.dmadirect.linux.sysfs.IommuState;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.sysfs.PciFunction;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.linux.sysfs.Zones;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmadirect info}: what this host offers for DMA, as the library sees it. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the CPU and coherence, memory per zone and the required DMA mask, hugepages per size and "
                + "NUMA node, the IOMMU, PCI devices with driver and IOMMU group, and confidential-VM status.")
public final class InfoCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    PrintStream out = System.out;

    /** The facts, as JSON prints them; the text form prints the same map. */
    static Map<String, Object> facts(HostTree tree) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("cpu", cpu(tree));
        long highest = Host.highestRam(tree);
        Map<String, Object> memory = new LinkedHashMap<>();
        memory.put("highestRamAddress", highest < 0 ? null : Sizes.hex(highest));
        memory.put("requiredMaskBits", highest < 0 ? null : DmaMask.bits(64 - Long.numberOfLeadingZeros(highest)).bits());
        long page = Host.pageSize();
        List<Map<String, Object>> zones = new ArrayList<>();
        for (Zones.ZoneInfo z : Zones.read(tree)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("node", z.node());
            m.put("zone", z.name());
            m.put("start", Sizes.hex(z.startPfn() * page));
            m.put("presentBytes", z.presentPages() * page);
            m.put("managedBytes", z.managedPages() * page);
            zones.add(m);
        }
        memory.put("zones", zones);
        facts.put("memory", memory);
        facts.put("hugepages", HugepagesCommand.rows(new HugepagePools(tree)));
        IommuState iommu = IommuState.read(tree);
        Map<String, Object> im = new LinkedHashMap<>();
        im.put("enabled", iommu.enabled());
        im.put("units", iommu.units());
        im.put("groups", iommu.groups());
        im.put("addressWidthBits", iommu.addressWidth() < 0 ? null : iommu.addressWidth());
        im.put("passthrough", iommu.passthrough());
        im.put("noIommuMode", iommu.noIommuMode());
        im.put("iommufd", iommu.iommufd());
        facts.put("iommu", im);
        PciBus bus = new PciBus(tree);
        Map<Integer, IommuGroup> groups = bus.groups();
        List<Map<String, Object>> devices = new ArrayList<>();
        for (PciFunction d : bus.devices()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("address", d.address());
            m.put("id", d.id());
            m.put("class", String.format("%06x", d.classCode()));
            m.put("driver", d.driver());
            m.put("iommuGroup", d.iommuGroup() < 0 ? null : d.iommuGroup());
            m.put("groupViable", d.iommuGroup() < 0 ? null : groups.get(d.iommuGroup()).viable());
            // The VFIO device cdev (/dev/vfio/devices/vfioN) of a device on vfio-pci, on kernels that make one.
            m.put("vfioCdev", bus.vfioCdev(PciAddress.parse(d.address())).map(name -> "/dev/vfio/devices/" + name)
                    .orElse(null));
            m.put("numaNode", d.numaNode());
            devices.add(m);
        }
        facts.put("pciDevices", devices);
        ConfidentialComputing.Status cc = ConfidentialComputing.fromCpuinfo(tree.read("/proc/cpuinfo").orElse(""));
        Map<String, Object> ccm = new LinkedHashMap<>();
        ccm.put("technology", cc.technology());
        ccm.put("forceUnencryptedDma", cc.forceUnencrypted());
        facts.put("confidentialVm", ccm);
        return facts;
    }

    private static Map<String, Object> cpu(HostTree tree) {
        Map<String, Object> cpu = new LinkedHashMap<>();
        String model = "unknown";
        for (String line : tree.read("/proc/cpuinfo").orElse("").split("\n")) {
            if (line.startsWith("model name") || line.startsWith("CPU part")) {
                model = line.substring(line.indexOf(':') + 1).trim();
                break;
            }
        }
        String arch = System.getProperty("os.arch");
        cpu.put("arch", arch);
        cpu.put("model", model);
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64");
        cpu.put("dmaCoherent", x86 ? "yes: x86 PCIe DMA snoops the CPU caches"
                : "per device: arm64 devices may not snoop (dma-coherent in the device tree or ACPI _CCA)");
        NativeLibrary.Status bridge = NativeLibrary.status();
        cpu.put("cacheMaintenance", bridge.loaded()
                ? "clean " + bridge.cleanInstruction() + ", invalidate " + bridge.invalidateInstruction() + ", line "
                        + bridge.lineSize() + " bytes"
                : "fences only: " + bridge.detail());
        return cpu;
    }

    @Override
    public Integer call() {
        Map<String, Object> facts = facts(Host.tree());
        if (json) {
            out.println(Json.of(facts));
        } else {
            Text.print(out, facts, 0);
        }
        return 0;
    }
}
