package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.host.PciSession;
import io.dmadirect.spi.MemoryRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook (issue 21, IOMMU address width): intel-iommu with {@code aw-bits} 39 (QEMU's default: the iommu-vfio
 * variant) or 48 (the numa variant), the rig's NVMe (64-bit mask) on vfio-pci.
 * Action: read the width from the unit's capability register (MGAW, bits 21:16, plus one); open a session and
 * allocate coherent buffers with the full 64-bit mask and with a 32-bit one; run {@code dmadirect doctor --device
 * NVMe --mask-bits 64}.
 * Seen: MGAW is the width QEMU was given; every IOVA run of the session and every buffer ends below 2^width (and
 * the 32-bit buffers below 2^32): the IOVA allocator honours both the device's mask and the IOMMU's width; doctor's
 * iova-width line names the same width, a warning at 39 bits (narrower than a 48-bit user address space) and a
 * pass at 48.
 */
@Tag("iommu")
@Tag("nvme")
@Tag("width")
class IommuWidthTest {
    @Test
    void iovasStayWithinTheMaskAndTheIommuWidthAndDoctorReportsTheWidth() throws Exception {
        Rig.require(Rig.iommu() && "intel".equals(System.getenv().getOrDefault("DMADIRECT_RIG_IOMMU_MODEL", "intel")),
                "an intel-iommu variant");
        int expected = Integer.parseInt(System.getenv().getOrDefault("DMADIRECT_RIG_IOMMU_AW_BITS", "39"));
        String bdf = System.getenv("DMADIRECT_RIG_NVME_BDF");
        long cap = Long.parseUnsignedLong(Files.readString(Path.of("/sys/bus/pci/devices", bdf, "iommu/intel-iommu/cap"))
                .trim(), 16);
        int width = (int) (cap >>> 16 & 0x3f) + 1;
        assertEquals(expected, width, "MGAW of cap " + Long.toHexString(cap));
        long limit = 1L << width;
        List<String> seen = new ArrayList<>();
        try (PciSession session = NvmeRig.open("hil-iommu-width", false)) {
            for (MemoryRun run : session.iovaMemory().orElseThrow().runs()) {
                assertTrue(run.frameBase() + run.size() <= limit, "run " + run + " within 2^" + width);
                seen.add(Sizes.hex(run.frameBase()) + "+" + Sizes.format(run.size()));
            }
            long highest = 0;
            List<DmaBuffer> held = new ArrayList<>();
            try {
                session.dma().setMaskAndCoherent(DmaMask.bits(64));
                for (int i = 0; i < 8; i++) {
                    DmaBuffer b = session.dma().allocCoherent(2 * Sizes.MiB);
                    held.add(b);
                    assertTrue(b.dmaAddress() + b.size() <= limit, Sizes.hex(b.dmaAddress()) + " within 2^" + width);
                    highest = Math.max(highest, b.dmaAddress() + b.size() - 1);
                }
                session.dma().setMaskAndCoherent(DmaMask.bits(32));
                DmaBuffer low = session.dma().allocCoherent(64 * Sizes.KiB);
                held.add(low);
                assertTrue(low.dmaAddress() + low.size() <= 1L << 32, Sizes.hex(low.dmaAddress()) + " within 32 bits");
            } finally {
                for (DmaBuffer b : held) {
                    b.close();
                }
            }
            session.close();
            RigProcess.Result doctor = AgentRig.cli("doctor-width", "doctor", "--device", bdf, "--mask-bits", "64");
            String line = doctor.output().lines().filter(l -> l.contains("iova-width")).findFirst()
                    .orElseThrow(() -> new AssertionError("no iova-width line in\n" + doctor.describe()));
            assertTrue(line.contains(width + "-bit IOVAs"), line);
            assertTrue(line.contains(width < 48 ? "WARN" : "PASS"), "a " + width + "-bit IOMMU for a 64-bit mask: " + line);
            Rig.note("iommu width: intel-iommu cap " + Long.toHexString(cap) + " MGAW " + width + " bits; session runs "
                    + seen + ", highest 64-bit-mask buffer byte " + Sizes.hex(highest) + " < 2^" + width
                    + "; doctor: " + line.trim());
        }
    }
}
