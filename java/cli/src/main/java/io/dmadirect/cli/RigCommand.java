package io.dmadirect.cli;

import io.dmadirect.cli.rig.RigDevice;
import io.dmadirect.cli.rig.RigLaunch;
import io.dmadirect.cli.rig.RigScripts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dmadirect rig}: boots the QEMU rig (test-rigs/qemu) with the user's devices, binds them to a
 * userspace driver, and runs the user's command, or a JUnit test classpath, inside. The guest's console,
 * the command's output, JUnit XML and any hs_err file land in the results directory; the exit code is the
 * verdict (the command's own; 124 on timeout, 125 when the rig failed).
 */
@Command(name = "rig", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Boot the QEMU rig with your devices and run your command or tests inside it.",
            "  dmadirect rig --device 'edu,dma_mask=0xffffff' -- java -jar my-driver-tests.jar",
            "  dmadirect rig --device edu --device 'nvme,mdts=5,namespaces=2' --junit target/test-classes:... "
                    + "--select-package com.acme",
            "The exit code is the verdict: the command's (or the tests') own, 124 on timeout, 125 when the rig failed."})
public final class RigCommand implements Callable<Integer> {

    @Option(names = "--device", paramLabel = "SPEC",
            description = "A device for the guest (repeatable): edu[,dma_mask=M], nvme[,mdts=N,namespaces=K,ns_size=64M], "
                    + "e1000e, virtio-net, or any QEMU -device string.")
    List<String> devices = new ArrayList<>();

    @Option(names = "--variant", paramLabel = "VARIANT", description = "iommu (default), iommufd or no-iommu.")
    String variant = "iommu";

    @Option(names = "--iommu", description = "Same as --variant iommu (run-guest.sh's spelling).")
    void iommu(boolean on) {
        variant = "iommu";
    }

    @Option(names = "--iommufd", description = "Same as --variant iommufd.")
    void iommufd(boolean on) {
        variant = "iommufd";
    }

    @Option(names = "--no-iommu", description = "Same as --variant no-iommu.")
    void noIommu(boolean on) {
        variant = "no-iommu";
    }

    @Option(names = "--bind", paramLabel = "DRIVER",
            description = "Driver for the --device devices: vfio-pci (default with an IOMMU), uio_pci_generic "
                    + "(default without), or none.")
    String bind;

    @Option(names = "--nvme-cmb", description = "Also the rig's CMB NVMe at 00:06.0 (the HIL suite's peer-DMA target).")
    boolean nvmeCmb;

    @Option(names = "--edu-dma-mask", paramLabel = "M", description = "The edu's DMA mask (also: --device edu,dma_mask=M).")
    String eduDmaMask;

    // The rig's other shapes (issues 21 and 22): run-guest.sh options, checked here and passed on as they are.
    @Option(names = "--nic-pair", description = "Two e1000e at 00:07.0 and 00:08.0 on one QEMU hub, a wire between them "
            + "(DMADIRECT_RIG_NIC_A_BDF, DMADIRECT_RIG_NIC_B_BDF); --device extras then start at 00:09.0.")
    boolean nicPair;

    @Option(names = "--iommu-model", paramLabel = "MODEL", description = "The guest's IOMMU: intel (default), amd or virtio.")
    String iommuModel;

    @Option(names = "--aw-bits", paramLabel = "BITS", description = "intel-iommu's address width: 39 (QEMU's default) or 48.")
    Integer awBits;

    @Option(names = "--numa", description = "Two NUMA nodes; the edu and the NVMe sit behind a pxb-pcie expander on node 1.")
    boolean numa;

    @Option(names = "--gigantic-pages", paramLabel = "N", description = "1 GiB hugepages the guest reserves at boot.")
    Integer giganticPages;

    @Option(names = "--kernel-args", paramLabel = "ARGS", description = "More guest kernel command line.")
    String kernelArgs;

    @Option(names = "--mem", paramLabel = "SIZE", description = "Guest RAM (default 1536M).")
    String mem = "1536M";

    @Option(names = "--hugepages", paramLabel = "N", description = "2 MiB hugepages in the guest (default 64).")
    int hugepages = 64;

    @Option(names = "--timeout", paramLabel = "SECS", description = "Limit for the whole boot (default 600).")
    int timeout = 600;

    @Option(names = "--results", paramLabel = "DIR",
            description = "Where the evidence goes (default: dmadirect-rig/<UTC time> under the working directory).")
    Path results;

    @Option(names = "--env", paramLabel = "NAME[=VALUE]", description = "Pass a variable to the command (repeatable).")
    List<String> env = new ArrayList<>();

    @Option(names = "--cwd", paramLabel = "DIR", description = "The command's working directory (default: this one).")
    Path cwd;

    @Option(names = "--junit", paramLabel = "CLASSPATH",
            description = "Run JUnit tests from this class path (test classes, the user's jars) with the console "
                    + "launcher; reports go to <results>/junit.")
    String junit;

    @Option(names = "--select-package", paramLabel = "PACKAGE", description = "With --junit: a package to run (repeatable).")
    List<String> selectPackages = new ArrayList<>();

    @Option(names = "--select-class", paramLabel = "CLASS", description = "With --junit: a class to run (repeatable).")
    List<String> selectClasses = new ArrayList<>();

    @Option(names = "--include-tag", paramLabel = "TAG", description = "With --junit: only tests with this tag (repeatable).")
    List<String> includeTags = new ArrayList<>();

    @Option(names = "--launcher", paramLabel = "JAR",
            description = "With --junit: the JUnit console launcher jar (default: junit-platform-console-standalone "
                    + "from ~/.m2).")
    Path launcher;

    @Option(names = "--scripts", paramLabel = "DIR",
            description = "The rig scripts (test-rigs/qemu); default: the checkout this command runs from, else "
                    + "the copy packed in its jar, extracted to ~/.cache/dmadirect-rig/scripts.")
    Path scripts;

    @Option(names = "--no-crash-log-option",
            description = "Do not set JAVA_TOOL_OPTIONS=-XX:ErrorFile=<results>/hs_err_%%p.log for the command's JVMs "
                    + "(for a command that places its crash logs itself: every JVM prints 'Picked up JAVA_TOOL_OPTIONS').")
    boolean noCrashLogOption;

    @Option(names = "--dry-run", description = "Print where the scripts come from and the boot's command line; boot nothing.")
    boolean dryRun;

    @Option(names = "--quiet", description = "Do not stream the command's output (it is still in the results).")
    boolean quiet;

    @Parameters(paramLabel = "COMMAND", description = "The command to run in the guest, after --.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        try {
            return RigLaunch.run(plan());
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("dmadirect rig: " + e.getMessage());
            return 2;
        }
    }

    private RigLaunch.Plan plan() {
        if (!List.of("iommu", "iommufd", "no-iommu").contains(variant)) {
            throw new IllegalArgumentException("--variant " + variant + ": expected iommu, iommufd or no-iommu");
        }
        if ((junit == null) == command.isEmpty()) {
            throw new IllegalArgumentException(junit == null ? "no command: give one after -- (or --junit CLASSPATH)"
                    : "--junit runs the tests itself: give no command after --");
        }
        if (junit == null && (!selectPackages.isEmpty() || !selectClasses.isEmpty() || !includeTags.isEmpty())) {
            throw new IllegalArgumentException("--select-package, --select-class and --include-tag go with --junit");
        }
        String driver = bind != null ? bind : variant.equals("no-iommu") ? "uio_pci_generic" : "vfio-pci";
        if (!List.of("vfio-pci", "uio_pci_generic", "none").contains(driver)) {
            throw new IllegalArgumentException("--bind " + driver + ": expected vfio-pci, uio_pci_generic or none");
        }
        List<String> guestOptions = guestOptions();
        RigScripts.Located located = RigScripts.locate(scripts);
        List<RigDevice> parsed = new ArrayList<>();
        int slot = freeSlotFrom(nicPair ? NIC_PAIR_SLOTS_END : RigDevice.FIRST_EXTRA_SLOT);
        for (String spec : devices) {
            RigDevice d = RigDevice.parse(spec, slot, RigLaunch.diskDir().toString());
            if (d.extra()) {
                slot = freeSlotFrom(slot + 1);
            }
            parsed.add(d);
        }
        return new RigLaunch.Plan(located, variant, driver, parsed, nvmeCmb, eduDmaMask, guestOptions, mem, hugepages,
                timeout, results, env, cwd, !noCrashLogOption, dryRun, junit, selectPackages, selectClasses, includeTags,
                launcher, quiet, command);
    }

    /** The slot after the NIC pair's two (00:07.0 and 00:08.0). */
    private static final int NIC_PAIR_SLOTS_END = 9;
    /** With --numa, run-guest.sh puts the pxb-pcie expander at 00:08.0. */
    private static final int NUMA_EXPANDER_SLOT = 8;

    private int freeSlotFrom(int slot) {
        return numa && slot == NUMA_EXPANDER_SLOT ? slot + 1 : slot;
    }

    /** The rig shapes of issues 21 and 22 as run-guest.sh options, refused here when they cannot be booted. */
    private List<String> guestOptions() {
        List<String> options = new ArrayList<>();
        if (nicPair) {
            if (numa) {
                throw new IllegalArgumentException("--nic-pair and --numa both need slot 00:08.0 (the NICs and the "
                        + "pxb-pcie expander): give one of them");
            }
            options.add("--nic-pair");
        }
        if (iommuModel != null) {
            if (!List.of("intel", "amd", "virtio").contains(iommuModel)) {
                throw new IllegalArgumentException("--iommu-model " + iommuModel + ": expected intel, amd or virtio");
            }
            if (variant.equals("no-iommu")) {
                throw new IllegalArgumentException("--iommu-model needs an IOMMU: use --variant iommu or iommufd");
            }
            options.addAll(List.of("--iommu-model", iommuModel));
        }
        if (awBits != null) {
            if (awBits != 39 && awBits != 48) {
                throw new IllegalArgumentException("--aw-bits " + awBits + ": intel-iommu supports 39 or 48");
            }
            options.addAll(List.of("--aw-bits", awBits.toString()));
        }
        if (numa) {
            options.add("--numa");
        }
        if (giganticPages != null) {
            if (giganticPages < 0) {
                throw new IllegalArgumentException("--gigantic-pages " + giganticPages + ": a count of 1 GiB pages, 0 or more");
            }
            options.addAll(List.of("--gigantic-pages", giganticPages.toString()));
        }
        if (kernelArgs != null) {
            options.addAll(List.of("--kernel-args", kernelArgs));
        }
        return options;
    }
}
