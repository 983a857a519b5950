package io.dmadirect.cli;

import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.PciBus;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dmadirect demo}: the main job. With an edu or NVMe device bound to vfio-pci or
 * uio_pci_generic on this host, it drives them ({@link DeviceDemo}); otherwise it boots the QEMU rig
 * and runs there ({@link RigDemo}). {@code --simulated} shows the policy on a simulated machine.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Userspace drivers on real devices with DMA memory from the dma-direct policy: the edu device "
                + "under a 28-bit mask and an NVMe controller (identify, write, read, verify, throughput).",
                "Uses the edu/NVMe devices bound to vfio-pci or uio_pci_generic here; with none, boots the QEMU rig "
                        + "(test-rigs/qemu) and runs in it."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--simulated", description = "Run on the simulated machine instead: the policy, no devices.")
    boolean simulated;

    @Option(names = "--rig", description = "Boot the QEMU rig even when devices are bound here.")
    boolean rig;

    @Override
    public Integer call() {
        if (simulated) {
            return new SimulatedDemo(System.out).run() ? 0 : 1;
        }
        boolean inRig = "1".equals(System.getenv("DMADIRECT_RIG"));
        List<DeviceDemo.Found> bound = rig ? List.of() : DeviceDemo.findBound(new PciBus(HostTree.HOST));
        if (!bound.isEmpty()) {
            return new DeviceDemo(System.out).run(bound) ? 0 : 1;
        }
        if (inRig) {
            System.out.println("dmadirect demo: in the rig guest, but no edu or NVMe device is bound (bind.sh)");
            return 1;
        }
        return new RigDemo(System.out).run() ? 0 : 1;
    }
}
