package io.dmadirect.hil;

import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.host.PciSession;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: the NVMe data path forced through bounce buffers, with MSI-X completion.
 * Setup: the rig's NVMe on vfio-pci, a platform with {@code swiotlb=force} (every streaming mapping
 * bounces), one I/O pair whose completions are awaited on an MSI-X vector.
 * Action: write and read back 4 KiB, 128 KiB and the MDTS maximum through streaming mappings of a
 * DMA buffer's CPU view (direct without force) and of byte[].
 * Seen: every mapping is bounced, the bounce address keeps the page offset (min_align_mask 4095), and
 * the data is byte-identical.
 */
@Tag("nvme")
class NvmeBounceTest {

    @Test
    void dataSurvivesForcedBounceWithInterrupts() {
        try (PciSession session = NvmeRig.open("hil-nvme-bounce", true);
                NvmeController nvme = NvmeController.attach(session.pci(), session.dma(),
                        NvmeOptions.DEFAULTS.withInterrupts(true))) {
            NvmeNamespace ns = nvme.namespace(1);
            NvmeQueuePair q = nvme.queuePair(0);
            assertTrue(q.interrupts(), "MSI-X completion on " + q);
            long lba = 24576; // 12 MiB in
            int mdts = (int) nvme.maxTransferBytes();
            for (int size : new int[] {4096, 128 * 1024, mdts}) {
                byte[] data = NvmeRig.pattern(size, 100 + size);
                try (DmaBuffer out = session.dma().allocCoherent(size)) {
                    ByteBuffer view = out.cpuView();
                    view.put(data).flip();
                    long mapped;
                    boolean bounced;
                    try (DmaMapping m = session.dma().map(view.slice(0, Math.min(size, 128 * 1024)), DmaDirection.TO_DEVICE)) {
                        bounced = m.isBounced();
                        mapped = m.dmaAddress();
                    }
                    assertTrue(bounced, "swiotlb=force: a DMA buffer's own view bounces");
                    q.write(ns, lba, view); // mapped (bounced) per chunk
                    byte[] back = new byte[size];
                    q.read(ns, lba, back, 0, size);
                    NvmeRig.assertSameBytes(data, back, size + " bytes through bounce buffers");
                    Rig.note("nvme forced bounce + MSI-X: " + Sizes.format(size) + " at LBA " + lba + " (buffer "
                            + Sizes.hex(out.dmaAddress()) + ", bounce " + Sizes.hex(mapped) + "): MATCH");
                }
                lba += size / ns.blockSize();
            }
            // a page offset survives the bounce: PRP1 may carry an offset, the rest must be page aligned
            byte[] data = NvmeRig.pattern(8192, 5);
            byte[] src = new byte[8192 + 512];
            System.arraycopy(data, 0, src, 512, 8192);
            try (DmaMapping m = session.dma().map(src, 512, 8192, DmaDirection.TO_DEVICE)) {
                assertEquals(512 & 4095, m.dmaAddress() & 4095, "min_align_mask keeps the offset");
                q.write(ns, lba, m, 0, 8192);
            }
            byte[] back = new byte[8192];
            q.read(ns, lba, back, 0, 8192);
            NvmeRig.assertSameBytes(data, back, "byte[] at offset 512");
            Rig.note("nvme forced bounce: byte[] at offset 512 bounced to an address with the same page offset; "
                    + "MATCH; " + q.completedCount() + " completions by MSI-X vector " + q.id());
        }
    }
}
