package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.host.PciSession;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.spi.IovaRange;
import io.dmadirect.spi.MemoryRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook (issue 21, IOMMU reserved regions): the rig's NVMe on vfio-pci behind the variant's IOMMU (AMD-Vi
 * reports the MSI window 0xfee00000-0xfeefffff and the HyperTransport range 0xfd00000000-0xffffffffff as reserved;
 * intel-iommu the MSI window).
 * Action: read the device's group's {@code reserved_regions} and the valid IOVA ranges VFIO type1 gave the session
 * ({@code VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE}); open a session and allocate eight 2 MiB coherent buffers with the NVMe's 64-bit mask.
 * Seen: VFIO's valid ranges leave out every reserved region; no IOVA run of the session and no buffer overlaps a
 * reserved region, and every one lies within a valid range.
 */
@Tag("iommu")
@Tag("nvme")
@Tag("rig-breadth")
class IommuReservedRegionsTest {
    @Test
    void iovasAvoidEveryReservedRegionOfTheGroup() throws Exception {
        Rig.require(Rig.iommu(), "an IOMMU variant");
        String bdf = System.getenv("DMADIRECT_RIG_NVME_BDF");
        Path group = Path.of("/sys/bus/pci/devices", bdf, "iommu_group").toRealPath();
        List<IovaRange> reserved = new ArrayList<>();
        List<String> described = new ArrayList<>();
        for (String line : Files.readAllLines(group.resolve("reserved_regions"))) {
            String[] f = line.trim().split("\\s+");
            reserved.add(IovaRange.ofUnsigned(Long.parseUnsignedLong(f[0].substring(2), 16),
                    Long.parseUnsignedLong(f[1].substring(2), 16)));
            described.add(line.trim());
        }
        assertFalse(reserved.isEmpty(), "the group reports its MSI window at least");
        try (PciSession session = NvmeRig.open("hil-reserved-regions", false)) {
            IovaMemory iova = session.iovaMemory().orElseThrow();
            List<IovaRange> valid = iova.iommu().validRanges();
            for (IovaRange r : reserved) {
                for (IovaRange v : valid) {
                    assertFalse(overlaps(v.first(), v.last(), r), "VFIO's valid range " + v + " overlaps reserved " + r);
                }
            }
            List<DmaBuffer> held = new ArrayList<>();
            try {
                // The NVMe's own mask: a 32-bit one would confine the buffers to ZONE_DMA32's few megabytes.
                session.dma().setMaskAndCoherent(DmaMask.bits(64));
                for (int i = 0; i < 8; i++) {
                    held.add(session.dma().allocCoherent(2 * Sizes.MiB));
                }
                List<String> runs = new ArrayList<>();
                for (MemoryRun run : iova.runs()) {
                    check(run.frameBase(), run.frameBase() + run.size() - 1, reserved, valid, "run " + run);
                    runs.add(Sizes.hex(run.frameBase()) + "+" + Sizes.format(run.size()));
                }
                for (DmaBuffer b : held) {
                    check(b.dmaAddress(), b.dmaAddress() + b.size() - 1, reserved, valid, "buffer");
                }
                Rig.note("reserved regions (" + System.getenv().getOrDefault("DMADIRECT_RIG_IOMMU_MODEL", "intel") + ", "
                        + iova.iommu().name() + ", group " + group.getFileName() + "): " + described + "; VFIO valid IOVA "
                        + valid + "; session runs " + runs + " and " + held.size() + " buffers avoid them");
            } finally {
                for (DmaBuffer b : held) {
                    b.close();
                }
            }
        }
    }

    private static void check(long first, long last, List<IovaRange> reserved, List<IovaRange> valid, String what) {
        for (IovaRange r : reserved) {
            assertFalse(overlaps(first, last, r), what + " [" + Sizes.hex(first) + ", " + Sizes.hex(last)
                    + "] overlaps reserved " + r);
        }
        assertTrue(valid.stream().anyMatch(v -> v.contains(first) && v.contains(last)),
                what + " [" + Sizes.hex(first) + ", " + Sizes.hex(last) + "] lies within one of " + valid);
    }

    private static boolean overlaps(long first, long last, IovaRange r) {
        return Long.compareUnsigned(first, r.last()) <= 0 && Long.compareUnsigned(r.first(), last) <= 0;
    }
}
