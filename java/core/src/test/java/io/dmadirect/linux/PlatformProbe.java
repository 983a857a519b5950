package io.dmadirect.linux;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.Sizes;

/**
 * The program child JVMs run for the bad-environment and crash tests. It prints one line the parent
 * reads, and exits 0 (worked), 3 (a dmadirect error: the message is the line) or 4 (anything else: a
 * crash, with its stack trace).
 *
 * <ul>
 *   <li>{@code platform PAGES}: opens {@code DmaPlatform.openLinux} with PAGES hugepages, allocates once;</li>
 *   <li>{@code memory PAGES}: opens {@code HugepageMemory} alone, bypassing the platform's root check, so
 *       that pagemap's PFN 0 is what stops it;</li>
 *   <li>{@code hold PAGES}: like platform, with a low-memory reserve behind a ballast, then prints READY
 *       and sleeps until killed.</li>
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
        long bytes = Long.parseLong(args[1]) * 2 * Sizes.MiB;
        HugepageOptions hugepages = HugepageOptions.DEFAULTS.withName("dmadirect-probe").withInitialBytes(bytes);
        try {
            if (mode.equals("memory")) {
                try (HugepageMemory memory = HugepageMemory.open(hugepages)) {
                    System.out.println("OK " + memory.runs());
                }
            } else {
                LinuxPlatformOptions options = LinuxPlatformOptions.DEFAULTS.withHugepages(hugepages);
                if (mode.equals("hold")) {
                    options = options.withLowMemory(new LowMemoryReserve(0, 2 * Sizes.MiB, 0, 20 * Sizes.GiB));
                }
                DmaPlatform platform = DmaPlatform.openLinux(options);
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
}
