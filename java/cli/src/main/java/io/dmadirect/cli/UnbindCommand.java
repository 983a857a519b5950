package io.dmadirect.cli;

import io.dmadirect.cli.system.DriverBinding;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dmadirect unbind}: undo {@code bind}: the device goes back to its own driver. */
@Command(name = "unbind", mixinStandardHelpOptions = true,
        description = "Unbind a PCI device, clear its driver_override, and let the kernel give it back to its own "
                + "driver.")
public final class UnbindCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ADDRESS", description = "The device, as domain:bus:device.function (0000:00:04.0).")
    String address;

    @Option(names = "--no-reprobe", description = "Leave the device without a driver.")
    boolean noReprobe;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() {
        try {
            DriverBinding.Outcome o = new DriverBinding(Host.tree()).unbind(address, !noReprobe);
            out.println(address + ": " + (o.before() == null ? "no driver" : o.before()) + " -> "
                    + (o.after() == null ? "no driver" : o.after()));
            return 0;
        } catch (IOException e) {
            err.println("dmadirect unbind: failed to unbind " + address + ": " + e.getMessage());
            return 1;
        }
    }
}
