package io.dmadirect.cli;

import io.dmadirect.cli.system.DriverBinding;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dmadirect bind}: hand a device to vfio-pci or uio_pci_generic, unless that would hurt. */
@Command(name = "bind", mixinStandardHelpOptions = true,
        description = "Bind a PCI device to vfio-pci (default) or uio_pci_generic through driver_override. Refuses "
                + "(exit 1) when the IOMMU group would not be viable, or when the device carries a mounted disk or "
                + "a network interface that is up.")
public final class BindCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ADDRESS", description = "The device, as domain:bus:device.function (0000:00:04.0).")
    String address;

    @Option(names = "--driver", defaultValue = DriverBinding.VFIO_PCI,
            description = "vfio-pci or uio_pci_generic (default ${DEFAULT-VALUE}).")
    String driver;

    @Option(names = "--dry-run", description = "Only say whether binding would be refused, and why.")
    boolean dryRun;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() {
        DriverBinding binding = new DriverBinding(Host.tree());
        List<DriverBinding.Refusal> refusals = binding.refusals(address, driver);
        for (DriverBinding.Refusal r : refusals) {
            err.println("dmadirect bind: refused: " + r.problem());
            err.println("  fix: " + r.remedy());
        }
        if (!refusals.isEmpty()) {
            return 1;
        }
        if (dryRun) {
            out.println(address + " can be bound to " + driver);
            return 0;
        }
        try {
            DriverBinding.Outcome o = binding.bind(address, driver);
            out.println(address + ": " + (o.before() == null ? "no driver" : o.before()) + " -> " + o.after());
            return 0;
        } catch (IOException e) {
            err.println("dmadirect bind: " + e.getMessage());
            return 1;
        }
    }
}
