package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.host.PciSession;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.spi.MemoryRun;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook (issue 21, 1 GiB hugepages): the guest reserves one 1 GiB page at boot ({@code hugepagesz=1G
 * hugepages=1}); a session on the rig's NVMe (vfio-pci, IOVA mode) takes it as its only memory.
 * Action: open the platform over the page; write through a 2 MiB coherent buffer and read it back through the
 * run's own view at the offset the DMA address gives (translation); find the buffer whose DMA address is the page's
 * middle (base + 512 MiB) and let the NVMe read a written pattern into it there.
 * Seen: one run of exactly 1 GiB, mapped as one IOVA range; the physical frames (pagemap) of the page's first byte
 * and of its middle are 512 MiB apart (one physically contiguous page); the pattern the device wrote at the middle
 * is there byte for byte, read through the run's view.
 */
@Tag("rig-breadth")
@Tag("gigantic")
class GiganticPageTest {
    private static final Path GIGANTIC = Path.of("/sys/kernel/mm/hugepages/hugepages-1048576kB");

    @Test
    void aPlatformOverOne1GiBPageTranslatesAndTheDeviceWritesIntoItsMiddle() throws Exception {
        Rig.require(Rig.iommu(), "the NVMe is on vfio-pci only in IOMMU variants");
        long reserved = Long.parseLong(Files.readString(GIGANTIC.resolve("nr_hugepages")).trim());
        Rig.require(reserved >= 1, "no 1 GiB page reserved: boot with run-guest.sh --gigantic-pages 1");
        PciAddress bdf = PciAddress.parse(System.getenv("DMADIRECT_RIG_NVME_BDF"));
        HugepageOptions memory = HugepageOptions.DEFAULTS.withPageSize(HugepageSize.SIZE_1G).withInitialBytes(Sizes.GiB)
                .withMaxBytes(Sizes.GiB).withName("hil-gigantic");
        try (PciSession session = PciSession.open(bdf, memory);
                NvmeController nvme = NvmeController.attach(session.pci(), session.dma())) {
            assertEquals(0, Long.parseLong(Files.readString(GIGANTIC.resolve("free_hugepages")).trim()),
                    "the session holds the 1 GiB page");
            List<MemoryRun> runs = session.iovaMemory().orElseThrow().runs();
            assertEquals(1, runs.size(), "one run: " + runs);
            MemoryRun run = runs.get(0);
            assertEquals(Sizes.GiB, run.size(), run.toString());
            long pfnBase = pfn(run.cpuAddress());
            long pfnMiddle = pfn(run.cpuAddress() + Sizes.GiB / 2);
            assertEquals(pfnBase + Sizes.GiB / 2 / 4096, pfnMiddle, "one physically contiguous page");
            assertEquals(0, pfnBase % (Sizes.GiB / 4096), "the page is 1 GiB aligned physically");

            // Translation: bytes written through a buffer's view are where its DMA address says in the run.
            List<DmaBuffer> held = new ArrayList<>();
            try {
                DmaBuffer middle = null;
                long target = run.frameBase() + Sizes.GiB / 2;
                while (middle == null && held.size() < 512) {
                    DmaBuffer b = session.dma().allocCoherent(2 * Sizes.MiB);
                    held.add(b);
                    assertTrue(b.dmaAddress() >= run.frameBase() && b.dmaAddress() + b.size() <= run.frameBase() + run.size(),
                            "buffer " + Sizes.hex(b.dmaAddress()) + " lies in the run");
                    if (b.dmaAddress() <= target && target < b.dmaAddress() + b.size()) {
                        middle = b;
                    }
                }
                assertNotNull(middle, "no 2 MiB buffer at the page's middle after " + held.size() + " allocations");
                DmaBuffer first = held.get(0);
                byte[] probe = NvmeRig.pattern(4096, 1);
                first.cpuView().put(probe);
                byte[] seen = new byte[probe.length];
                run.cpuView(first.dmaAddress() - run.frameBase(), probe.length).get(seen);
                NvmeRig.assertSameBytes(probe, seen, "translation of " + Sizes.hex(first.dmaAddress()));

                NvmeNamespace ns = nvme.namespace(1);
                byte[] data = NvmeRig.pattern(8192, 1024);
                nvme.queuePair(0).write(ns, 512, data, 0, data.length);
                long dma = target;
                nvme.queuePair(0).read(ns, 512, middle, dma - middle.dmaAddress(), data.length);
                byte[] there = new byte[data.length];
                ByteBuffer view = run.cpuView(dma - run.frameBase(), data.length);
                view.get(there);
                NvmeRig.assertSameBytes(data, there, "the NVMe's DMA at the page's middle");
                Rig.note("gigantic page: 1 GiB run " + run + ", pfn " + Sizes.hex(pfnBase) + " (phys "
                        + Sizes.hex(pfnBase * 4096) + "), middle pfn " + Sizes.hex(pfnMiddle) + "; NVMe read "
                        + data.length + " bytes into DMA address " + Sizes.hex(dma) + " = IOVA base + 512 MiB (buffer "
                        + held.size() + " of 2 MiB), byte-identical through the run's view");
            } finally {
                for (DmaBuffer b : held) {
                    b.close();
                }
            }
        }
        assertEquals(reserved, Long.parseLong(Files.readString(GIGANTIC.resolve("free_hugepages")).trim()),
                "the 1 GiB page is free again after the session");
    }

    /** The page frame number of a virtual address of this process ({@code /proc/self/pagemap}; root sees it). */
    private static long pfn(long virtualAddress) throws IOException {
        // pagemap answers only reads of whole 8-byte entries (a byte-wise read gets EINVAL): one pread of 8 bytes.
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            pagemap.read(entry, virtualAddress / 4096 * 8);
            assertEquals(8, entry.position(), "one pagemap entry");
            long e = entry.getLong(0);
            assertTrue(e < 0, "page present: entry " + Long.toHexString(e));
            return e & ((1L << 55) - 1);
        }
    }
}
