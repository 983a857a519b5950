package io.dmadirect.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dmadirect} command: one entry point, a subcommand per job. */
@Command(name = "dmadirect", mixinStandardHelpOptions = true, version = "dmadirect 0.1.0",
        description = "DMA memory for userspace PCIe drivers, with the Linux kernel's dma-direct policy.",
        subcommands = {InfoCommand.class, DoctorCommand.class, BindCommand.class, UnbindCommand.class,
                HugepagesCommand.class, BenchCommand.class, DemoCommand.class, AgentCommand.class, RigCommand.class,
                CommandLine.HelpCommand.class})
public final class DmadirectCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Exit codes: 0 OK, 1 a check failed (or the work did), 2 a usage error (picocli's own). */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new DmadirectCommand());
    }
}
