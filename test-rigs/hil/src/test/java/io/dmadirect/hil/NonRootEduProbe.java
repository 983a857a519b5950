package io.dmadirect.hil;

import io.dmadirect.DmaException;
import io.dmadirect.Sizes;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child JVM of {@link EduNonRootTest}, run as nobody with the group that may open /dev/vfio/N and a
 * finite RLIMIT_MEMLOCK. It prints one line per step and exits 0 (all seen as expected), 3 (a dmadirect
 * error, printed) or 4 (anything else, with its stack trace):
 * <ol>
 *   <li>{@code WHO}: uid, effective capabilities, memlock limit;</li>
 *   <li>{@code REFUSED}: a session asking for twice the limit fails with the memlock remedy, and releases
 *       the device (the next step opens it again);</li>
 *   <li>{@code SESSION}: a session within the limit opens in IOVA mode; VmLck (VFIO type1) or VmPin (iommufd) shows what was pinned;</li>
 *   <li>{@code DMA}: a pattern goes RAM to device to RAM through the edu and arrives intact.</li>
 * </ol>
 * Usage: {@code NonRootEduProbe BDF MEMORY_MIB LIMIT_MIB}.
 */
public final class NonRootEduProbe {
    static final int OK = 0;
    static final int DMA_ERROR = 3;
    static final int CRASH = 4;

    private NonRootEduProbe() {
    }

    public static void main(String[] args) {
        PciAddress bdf = PciAddress.parse(args[0]);
        long memory = Long.parseLong(args[1]) * Sizes.MiB;
        long limit = Long.parseLong(args[2]) * Sizes.MiB;
        try {
            System.out.println("WHO " + status("Uid") + ", " + status("Groups") + ", " + status("CapEff")
                    + ", memlock limit " + Sizes.format(limit));
            refusedPastTheLimit(bdf, 2 * limit);
            try (PciSession session = PciSession.open(bdf, HugepageOptions.DEFAULTS.withInitialBytes(memory)
                    .withName("hil-nonroot"))) {
                IovaMemory iova = session.iovaMemory().orElseThrow();
                System.out.println("SESSION " + bdf + " on " + session.pci().driver() + ", " + session.mode()
                        + " mode through " + session.iommuName().orElse("no IOMMU") + ", "
                        + Sizes.format(iova.mappedBytes()) + " mapped in " + iova.mappingCount() + " IOMMU mappings, "
                        + status("VmLck") + ", " + status("VmPin") + ", " + status("HugetlbPages"));
                if (session.mode() != AddressMode.IOVA) {
                    throw new IllegalStateException("expected IOVA mode, got " + session.mode());
                }
                System.out.println(EduRoundTrip.run(session));
            }
            System.exit(OK);
        } catch (DmaException e) {
            System.out.println("ERROR " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(DMA_ERROR);
        } catch (RuntimeException | Error | IOException e) {
            e.printStackTrace(System.out);
            System.exit(CRASH);
        }
    }

    /** More memory than the limit lets VFIO pin: refused with the remedy before the map ioctl. */
    private static void refusedPastTheLimit(PciAddress bdf, long bytes) {
        try (PciSession session = PciSession.open(bdf, HugepageOptions.DEFAULTS.withInitialBytes(bytes)
                .withName("hil-nonroot-big"))) {
            throw new IllegalStateException("a session of " + Sizes.format(bytes) + " opened past the memlock limit: "
                    + session.mode());
        } catch (DmaException e) {
            System.out.println("REFUSED " + Sizes.format(bytes) + ": " + e.getMessage());
        }
    }

    /** One line of /proc/self/status, its whitespace squeezed. */
    private static String status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return line.replaceAll("\\s+", " ").trim();
            }
        }
        return key + ": none";
    }
}
