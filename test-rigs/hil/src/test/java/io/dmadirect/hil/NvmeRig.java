package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.dmadirect.Sizes;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciSession;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Opening the rig's NVMe controller for the driver tests, and the data patterns they write. */
final class NvmeRig {
    private NvmeRig() {
    }

    /** A session on the rig's NVMe (vfio-pci, IOVA mode; bound only in the intel-iommu variant). */
    static PciSession open(String name, boolean forceBounce) {
        Rig.requireRig();
        Rig.require(Rig.iommu(), "NVMe is bound to vfio-pci only in the intel-iommu variant");
        PciAddress bdf = PciAddress.parse(System.getenv("DMADIRECT_RIG_NVME_BDF"));
        HugepageOptions memory = HugepageOptions.DEFAULTS.withInitialBytes(24 * Sizes.MiB).withName(name);
        SwiotlbConfig bounce = SwiotlbConfig.processDefaults().withForce(forceBounce);
        return PciSession.open(bdf, memory, bounce);
    }

    /** Bytes that differ for every block and every run seed, so stale or misplaced data cannot match. */
    static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static void assertSameBytes(byte[] expected, byte[] actual, String what) {
        if (!Arrays.equals(expected, actual)) {
            int i = Arrays.mismatch(expected, actual);
            assertArrayEquals(expected, actual, what + ": first difference at byte " + i);
        }
    }
}
