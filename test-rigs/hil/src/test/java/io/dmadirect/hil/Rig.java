package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dmadirect.Sizes;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the HIL tests run. Inside the QEMU rig ({@code DMADIRECT_RIG=1}) they use the real edu and
 * NVMe devices; on the host they skip, or fail when {@code DMADIRECT_REQUIRE_RIG=1}, so that CI can
 * never pass by skipping. One edu session is shared by all tests of a JVM: opening hugepages and VFIO
 * costs seconds under TCG.
 */
final class Rig {
    static final long MASK_28 = (1L << 28) - 1;
    private static PciSession edu;
    private static EduDriver driver;
    private static boolean hookAdded;

    private Rig() {
    }

    /** Skips (or fails, when the rig is required) outside the rig guest. */
    static void requireRig() {
        boolean inRig = "1".equals(System.getenv("DMADIRECT_RIG"));
        if (!inRig && "1".equals(System.getenv("DMADIRECT_REQUIRE_RIG"))) {
            fail("DMADIRECT_REQUIRE_RIG=1 but this is not the rig guest (DMADIRECT_RIG is not 1): "
                    + "run test-rigs/hil/run.sh");
        }
        assumeTrue(inRig, "not in the QEMU rig: run test-rigs/hil/run.sh (device tests skipped on the host)");
    }

    /**
     * A test's need of its variant (an IOMMU, the NVMe): outside the rig it skips as {@link #requireRig()}
     * does; inside, a variant selects by tag only the tests it can run, so an unmet need fails rather than
     * skips. This and {@link #requireRig()} are the HIL suite's only assumptions (NoBareAssumptionsTest).
     */
    static void require(boolean condition, String reason) {
        requireRig();
        if (!condition) {
            fail("variant " + variant() + " selected a test it cannot run: " + reason
                    + " (test-rigs/hil/run.sh excludes tests by tag where a variant lacks what they need)");
        }
    }

    static boolean iommu() {
        return "1".equals(System.getenv("DMADIRECT_RIG_IOMMU"));
    }

    /** The guest runs the kernel with iommufd and the VFIO device cdev (run-guest.sh --iommufd). */
    static boolean iommufd() {
        return "1".equals(System.getenv("DMADIRECT_RIG_IOMMUFD"));
    }

    /** Issue 21: the guest has two NUMA nodes and the devices behind a pxb-pcie on node 1 (run-guest.sh --numa). */
    static boolean numa() {
        return "1".equals(System.getenv("DMADIRECT_RIG_NUMA"));
    }

    static String variant() {
        return System.getenv().getOrDefault("DMADIRECT_HIL_VARIANT", "unknown");
    }

    /** The shared edu session and driver, opened on first use. */
    static synchronized EduDriver edu() {
        requireRig();
        if (driver == null) {
            PciAddress bdf = PciAddress.parse(System.getenv("DMADIRECT_RIG_EDU_BDF"));
            // PA variants boot a 1 GiB guest with ~300 hugepages and take almost all, so that some lie
            // below 256 MiB (the edu's reach); IOVA mode places IOVAs and needs only a little.
            long bytes = iommu() ? 96 * Sizes.MiB : Long.getLong("hil.paBytes", 560 * Sizes.MiB);
            edu = PciSession.open(bdf, HugepageOptions.DEFAULTS.withInitialBytes(bytes).withName("hil-edu"));
            driver = EduDriver.attach(edu.pci(), edu.dma());
            note("edu " + bdf + " on " + edu.pci().driver() + ", " + edu.mode() + " mode"
                    + edu.iommuName().map(name -> " through " + name).orElse("") + ", interrupt "
                    + (driver.interrupt() == null ? "none (polling)" : driver.interrupt().kind()));
            if (!hookAdded) {
                Runtime.getRuntime().addShutdownHook(new Thread(Rig::releaseEdu));
                hookAdded = true;
            }
        }
        return driver;
    }

    /**
     * Closes the shared edu session, if open, and gives its hugepages back. VFIO lets one process hold a
     * device, so a test that runs the edu in a child JVM releases it first; a later {@link #edu()} opens it
     * again (which costs seconds, so such tests run last).
     */
    static synchronized void releaseEdu() {
        if (driver != null) {
            try {
                driver.close();
            } finally {
                driver = null;
                edu.close();
                edu = null;
            }
        }
    }

    static synchronized PciSession eduSession() {
        edu();
        return edu;
    }

    static AddressMode mode() {
        return eduSession().mode();
    }

    /** A lab-notebook line: to stdout (the console log of the run) and to the results share. */
    static void note(String line) {
        String text = "[hil " + variant() + "] " + line;
        System.out.println(text);
        String results = System.getenv("DMADIRECT_RIG_RESULTS");
        if (results != null) {
            try {
                Files.writeString(Path.of(results, "evidence.txt"), text + "\n", StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException e) {
                System.out.println("(cannot write evidence.txt: " + e + ")");
            }
        }
    }
}
