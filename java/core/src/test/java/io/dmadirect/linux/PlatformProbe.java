package io.dmadirect.linux;

import io.dmadirect.host.LinuxPlatform;

import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.HugepageMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.LowMemoryQuota;
import io.dmadirect.linux.hugepages.Pagemap;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciPlatforms;
import io.dmadirect.host.PciSession;
import io.dmadirect.spi.MemoryRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The program child JVMs run for the bad-environment and crash tests. It prints one line the parent
 * reads, and exits 0 (worked), 3 (a dmadirect error: the message is the line) or 4 (anything else: a
 * crash, with its stack trace).
 *
 * <ul>
 *   <li>{@code platform PAGES}: opens {@code LinuxPlatform.open} with PAGES hugepages, allocates once;</li>
 *   <li>{@code memory PAGES}: opens PA-mode {@code HugepageMemory} alone, without the platform around it;</li>
 *   <li>{@code hold PAGES}: like platform, with a low-memory reserve behind a ballast, then prints READY
 *       and sleeps until killed;</li>
 *   <li>{@code iova-memory PAGES}: opens {@code HugepageMemory.openForIommu} (IOVA mode, no pagemap), writes
 *       and reads back a pattern through two views of each run, and prints what it held and saw;</li>
 *   <li>{@code pa-session SYSFS BDF PAGES}: opens a {@code PciSession} on the device that the sysfs tree at
 *       SYSFS says is bound to a PA-mode driver.</li>
 * </ul>
 */
public final class PlatformProbe {
    static final int OK = 0;
    static final int DMA_ERROR = 3;
    static final int CRASH = 4;

    private PlatformProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        String mode = args[0];
        long bytes = mode.equals("pa-session") ? 0 : Long.parseLong(args[1]) * 2 * Sizes.MiB;
        HugepageOptions hugepages = HugepageOptions.DEFAULTS.withName("dmadirect-probe").withInitialBytes(bytes);
        try {
            if (mode.equals("iova-memory")) {
                iovaMemory(hugepages);
            } else if (mode.equals("pa-session")) {
                bytes = Long.parseLong(args[3]) * 2 * Sizes.MiB;
                try (PciSession session = PciSession.open(LinuxSyscalls.instance(), Path.of(args[1]),
                        PciAddress.parse(args[2]), PciPlatforms.defaults().withHugepages(hugepages.withInitialBytes(bytes)))) {
                    System.out.println("OK " + session.mode());
                }
            } else if (mode.equals("memory")) {
                try (HugepageMemory memory = HugepageMemory.open(hugepages)) {
                    System.out.println("OK " + memory.runs());
                }
            } else {
                LinuxPlatformOptions options = LinuxPlatformOptions.DEFAULTS.withHugepages(hugepages);
                if (mode.equals("hold")) {
                    options = options.withLowMemory(new LowMemoryQuota(0, 2 * Sizes.MiB, 0, 20 * Sizes.GiB));
                }
                DmaPlatform platform = LinuxPlatform.open(options);
                DmaDevice device = platform.attach(DeviceProperties.simple("probe"));
                device.setMaskAndCoherent(DmaMask.BITS_64);
                DmaBuffer buffer = device.allocCoherent(64 * Sizes.KiB);
                System.out.println((mode.equals("hold") ? "READY " : "OK ") + Sizes.hex(buffer.dmaAddress()));
                if (mode.equals("hold")) {
                    Thread.sleep(120_000);
                }
                platform.close();
            }
            System.exit(OK);
        } catch (DmaException e) {
            System.out.println("ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(DMA_ERROR);
        } catch (RuntimeException | Error e) {
            e.printStackTrace(System.out);
            System.exit(CRASH);
        }
    }

    /**
     * IOVA-mode memory as this user gets it: held as hugetlb pages (HugetlbPages of /proc/self/status),
     * usable through views, with no physical address, while pagemap would show this user PFN 0.
     */
    private static void iovaMemory(HugepageOptions hugepages) {
        try (HugepageMemory memory = HugepageMemory.openForIommu(hugepages, LinuxSyscalls.instance(),
                ProcessCapabilities.current())) {
            long held = 0;
            boolean match = true;
            String frameBase = "given";
            for (MemoryRun run : memory.runs()) {
                held += run.size();
                for (long offset = 0; offset < run.size(); offset += 2 * Sizes.MiB) {
                    run.cpuView(offset, 8).putLong(0, run.cpuAddress() + offset ^ 0x5a5a5a5a5a5a5a5aL);
                }
                ByteBuffer whole = run.cpuView(0, (int) run.size());
                for (long offset = 0; offset < run.size(); offset += 2 * Sizes.MiB) {
                    match &= whole.getLong((int) offset) == (run.cpuAddress() + offset ^ 0x5a5a5a5a5a5a5a5aL);
                }
                try {
                    run.frameBase();
                } catch (DmaUsageException e) {
                    frameBase = "refused";
                }
            }
            boolean pfnHidden;
            try (Pagemap pagemap = Pagemap.openSelf(LinuxSyscalls.instance().pageSize())) {
                pfnHidden = pagemap.entry(memory.runs().get(0).cpuAddress()).pfnHidden();
            }
            System.out.println("OK iova-memory held " + Sizes.format(held) + ", " + statusLine("HugetlbPages")
                    + ", " + statusLine("VmLck") + ", pattern " + (match ? "MATCH" : "DIFFERS") + ", frameBase "
                    + frameBase + ", pagemap PFN " + (pfnHidden ? "hidden" : "shown") + ", uid " + statusLine("Uid"));
        }
    }

    /** One line of /proc/self/status, its whitespace squeezed. */
    private static String statusLine(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return line.replaceAll("\\s+", " ");
                }
            }
            return key + ": none";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
