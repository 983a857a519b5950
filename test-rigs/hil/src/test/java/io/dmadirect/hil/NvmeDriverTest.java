package io.dmadirect.hil;

import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeException;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.host.PciSession;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Lab notebook: the NVMe driver on the rig's controller (QEMU 1b36:0010, serial dmadirect-rig, 64 MiB
 * namespace that starts zeroed every boot), vfio-pci in IOVA mode, 4 polled I/O queue pairs.
 * Action: identify; write then read back at 4 KiB, 128 KiB (PRP list) and the MDTS maximum from
 * coherent buffers and from user ByteBuffers and byte[]; four threads on four pairs; a command the
 * controller rejects.
 * Seen: the data is byte-identical every time; the numbers are in evidence.txt.
 */
@Tag("nvme")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NvmeDriverTest {
    private PciSession session;
    private NvmeController nvme;
    private NvmeNamespace ns;

    @BeforeAll
    void open() {
        session = NvmeRig.open("hil-nvme-driver", false);
        nvme = NvmeController.attach(session.pci(), session.dma(), NvmeOptions.DEFAULTS.withIoQueuePairs(4));
        ns = nvme.namespace(1);
    }

    @AfterAll
    void close() {
        if (nvme != null) {
            nvme.close();
        }
        if (session != null) {
            session.close();
        }
    }

    @Test
    void identifyReturnsTheSerialOfTheQemuCommandLine() {
        assertEquals("dmadirect-rig", nvme.identity().serial());
        assertEquals("QEMU NVMe Ctrl", nvme.identity().model());
        assertEquals(4, nvme.doorbellStride(), "DSTRD 0");
        assertTrue(nvme.maxTransferBytes() >= 128 * Sizes.KiB);
        Rig.note("nvme identify: serial '" + nvme.identity().serial() + "', model '" + nvme.identity().model()
                + "', fw '" + nvme.identity().firmware() + "', MDTS " + Sizes.format(nvme.identity().maxTransferBytes())
                + ", " + ns + ", " + nvme.queuePairs().size() + " I/O queue pairs, " + session.mode() + " mode");
    }

    @Test
    void coherentBuffersAt4KiB128KiBAndMdts() {
        NvmeQueuePair q = nvme.queuePair(0);
        int mdts = (int) nvme.maxTransferBytes();
        long lba = 0;
        for (int size : new int[] {4096, 128 * 1024, mdts}) {
            byte[] data = NvmeRig.pattern(size, size);
            try (DmaBuffer out = session.dma().allocCoherent(size); DmaBuffer in = session.dma().allocCoherent(size)) {
                out.cpuView().put(data);
                long before = q.submittedCount();
                q.write(ns, lba, out, 0, size);
                q.flush(ns);
                q.read(ns, lba, in, 0, size);
                assertEquals(3, q.submittedCount() - before, "one write, one flush, one read of " + size + " bytes");
                byte[] got = new byte[size];
                in.cpuView().get(got);
                NvmeRig.assertSameBytes(data, got, size + " bytes at LBA " + lba);
                Rig.note("nvme write+read " + Sizes.format(size) + " at LBA " + lba + " (" + (size / 4096 > 2
                        ? "PRP list of " + (size / 4096 - 1) + " entries" : "PRP1 only") + "), one command each, "
                        + "out " + Sizes.hex(out.dmaAddress()) + " in " + Sizes.hex(in.dmaAddress()) + ": MATCH");
            }
            lba += size / ns.blockSize();
        }
    }

    @Test
    void userByteBuffersAndArraysAreMapped() {
        NvmeQueuePair q = nvme.queuePair(1);
        int size = 128 * 1024;
        long lba = 4096; // 2 MiB into the namespace
        byte[] data = NvmeRig.pattern(size, 7);
        ByteBuffer direct = ByteBuffer.allocateDirect(size);
        direct.put(data).flip();
        q.write(ns, lba, direct);
        byte[] back = new byte[size + 8];
        q.read(ns, lba, back, 4, size); // an offset: the bounce slot keeps it under min_align_mask
        NvmeRig.assertSameBytes(data, java.util.Arrays.copyOfRange(back, 4, 4 + size), "direct ByteBuffer -> byte[]");

        byte[] data2 = NvmeRig.pattern(size * 3, 8); // larger than one heap mapping: split in chunks
        q.write(ns, lba + 1024, data2, 0, data2.length);
        ByteBuffer heap = ByteBuffer.allocate(data2.length);
        q.read(ns, lba + 1024, heap);
        NvmeRig.assertSameBytes(data2, heap.array(), "byte[] -> heap ByteBuffer");
        Rig.note("nvme streaming: 128 KiB direct ByteBuffer written, read into byte[] at offset 4; 384 KiB byte[] "
                + "written, read into a heap ByteBuffer: MATCH (min_align_mask " + session.dma().minAlignMask() + ")");
    }

    @Test
    void fourThreadsOnFourQueuePairs() throws Exception {
        int threads = nvme.queuePairs().size();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                NvmeQueuePair q = nvme.queuePair(t);
                long base = 16384 + t * 2048L; // 1 MiB per thread, from 8 MiB on
                int thread = t;
                results.add(pool.submit(() -> {
                    int ios = 0;
                    try (DmaBuffer out = session.dma().allocCoherent(16 * 1024);
                            DmaBuffer in = session.dma().allocCoherent(16 * 1024)) {
                        for (int i = 0; i < 16; i++) {
                            byte[] data = NvmeRig.pattern(16 * 1024, thread * 1000 + i);
                            out.cpuView().put(data);
                            long lba = base + i * 32L;
                            q.write(ns, lba, out, 0, 16 * 1024);
                            q.read(ns, lba, in, 0, 16 * 1024);
                            byte[] got = new byte[data.length];
                            in.cpuView().get(got);
                            NvmeRig.assertSameBytes(data, got, "thread " + thread + " io " + i);
                            ios += 2;
                        }
                    }
                    return ios;
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get();
            }
            assertEquals(threads * 32, total);
            StringBuilder per = new StringBuilder();
            for (NvmeQueuePair q : nvme.queuePairs()) {
                per.append(" q").append(q.id()).append('=').append(q.completedCount());
            }
            Rig.note("nvme " + threads + " threads on " + threads + " queue pairs: " + total
                    + " I/Os of 16 KiB, all MATCH; completions per pair:" + per);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRejectedCommandNamesTheCommandAndTheStatus() {
        NvmeNamespace missing = new NvmeNamespace(77, ns.blocks(), ns.blockSize());
        try (DmaBuffer b = session.dma().allocCoherent(4096)) {
            NvmeException e = assertThrows(NvmeException.class, () -> nvme.queuePair(0).read(missing, 0, b, 0, 4096));
            assertTrue(e.getMessage().contains("Read (nsid 77, LBA 0, 8 blocks)"), e.getMessage());
            assertTrue(e.status() > 0);
            Rig.note("nvme rejected command: " + e.getMessage());
        }
        // the pair still works afterwards
        try (DmaBuffer b = session.dma().allocCoherent(4096)) {
            nvme.queuePair(0).read(ns, 0, b, 0, 4096);
        }
    }
}
