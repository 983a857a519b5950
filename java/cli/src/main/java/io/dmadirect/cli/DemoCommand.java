package io.dmadirect.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dmadirect demo}: the main job. Until devices and the rig land, it runs the policy on a
 * simulated machine and shows what each allocation got and why.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Show the dma-direct policy at work: what each allocation got, and why.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--simulated", description = "Run on the simulated machine (the only mode until the rig lands).",
            defaultValue = "true")
    boolean simulated;

    @Override
    public Integer call() {
        return new SimulatedDemo(System.out).run() ? 0 : 1;
    }
}
