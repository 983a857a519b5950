package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.drivers.nvme.NvmeResetReport;
import io.dmadirect.host.PciSession;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook (issue 21, reset and recovery): the rig's NVMe (QEMU 1b36:0010, reset method {@code flr}) on
 * vfio-pci in IOVA mode, the driver with two I/O pairs and MSI-X, DMA memory mapped through the IOMMU.
 * Action: write a pattern; turn bus mastering off and fill both pairs with 512 KiB reads, which the controller
 * cannot fetch (it reports CSTS.CFS); reset the function ({@code VFIO_DEVICE_RESET})
 * through {@link NvmeController#reset()}; then write and read again on the same session, and reset once more
 * with nothing in flight. The edu, which has no reset method, is asked too.
 * Seen: the reset report names the FLR and its time; every read in flight completes with "Host Aborted Command";
 * the data written before the reset reads back byte for byte after it (the namespace keeps it); the memory,
 * bounce slots and eventfds in use are what they were before (nothing re-allocated, nothing leaked); the
 * edu's reset fails with an exception naming the missing reset method.
 */
@Tag("nvme")
@Tag("reset")
class NvmeResetTest {
    @Test
    void aFunctionLevelResetUnderALiveSessionAbortsWhatIsInFlightAndTheDriverComesBack() throws Exception {
        try (PciSession session = NvmeRig.open("hil-nvme-reset", false)) {
            DirectPlatform platform = (DirectPlatform) session.platform();
            assertTrue(session.pci().canReset(), "the rig's NVMe has reset_method flr");
            NvmeController nvme = NvmeController.attach(session.pci(), session.dma(),
                    NvmeOptions.DEFAULTS.withIoQueuePairs(2).withInterrupts(true));
            try {
                NvmeNamespace ns = nvme.namespace(1);
                int block = ns.blockSize();
                byte[] data = NvmeRig.pattern(16 * block, 21);
                int readBytes = (int) Math.min(nvme.maxTransferBytes(), 512 * Sizes.KiB);
                try (DmaBuffer out = session.dma().allocCoherent(data.length);
                        DmaBuffer in = session.dma().allocCoherent(readBytes)) {
                    out.cpuView().put(data);
                    nvme.queuePair(0).write(ns, 0, out, 0, data.length);
                    UsageBaseline before = UsageBaseline.of(platform, nvme.prpPoolBytes());

                    // Bus mastering off, as a device that lost it (or a host that pulled it) would be: the controller
                    // cannot fetch the reads queued next, QEMU's marks itself fatal (CSTS.CFS), and every read stays
                    // in flight until the reset. Without this QEMU finishes them before the FLR (first runs: 8 of 8,
                    // then 126 of 126 reads of 512 KiB had completed).
                    session.pci().disableBusMaster();
                    Map<Integer, Integer> statuses = new HashMap<>();
                    int submitted = 0;
                    for (int p = 0; p < 2; p++) {
                        NvmeQueuePair q = nvme.queuePair(p);
                        for (int i = 0; i < q.capacity(); i++) {
                            q.submitRead(ns, (long) i * (readBytes / block), in.dmaAddress(), readBytes);
                            submitted++;
                        }
                    }
                    int csts = awaitFatalStatus(session);
                    NvmeResetReport report = nvme.reset();
                    assertTrue(report.functionLevelReset(), report.toString());
                    int aborted = 0;
                    int completedFirst = 0;
                    for (int p = 0; p < 2; p++) {
                        NvmeQueuePair q = nvme.queuePair(p);
                        q.poll((cid, status) -> statuses.merge(status, 1, Integer::sum));
                        assertEquals(0, q.outstanding(), "pair " + p + " has nothing left in flight");
                    }
                    aborted = statuses.getOrDefault(NvmeQueuePair.STATUS_HOST_ABORTED, 0);
                    completedFirst = statuses.getOrDefault(0, 0);
                    assertEquals(submitted, aborted + completedFirst, "every read either completed before the reset "
                            + "or was aborted by it: " + statuses);
                    assertEquals(report.commandsAborted(), aborted, report.toString());
                    assertEquals(submitted, aborted, "every read was in flight: " + report);
                    assertEquals(Map.of(), withoutKnown(statuses), "no other status");

                    // The same session, the same queues: the data is still there and new I/O works.
                    byte[] back = new byte[data.length];
                    nvme.queuePair(1).read(ns, 0, back, 0, back.length);
                    NvmeRig.assertSameBytes(data, back, "after the reset");
                    byte[] more = NvmeRig.pattern(8 * block, 2121);
                    nvme.queuePair(0).write(ns, 64, more, 0, more.length);
                    byte[] moreBack = new byte[more.length];
                    nvme.queuePair(0).read(ns, 64, moreBack, 0, moreBack.length);
                    NvmeRig.assertSameBytes(more, moreBack, "written after the reset");
                    NvmeResetReport idle = nvme.reset();
                    assertEquals(0, idle.commandsAborted(), idle.toString());
                    nvme.queuePair(1).read(ns, 0, back, 0, back.length);
                    NvmeRig.assertSameBytes(data, back, "after the second reset");
                    before.check(platform, nvme.prpPoolBytes(), "after two resets");
                    Rig.note("nvme reset: bus master off, " + submitted + " reads of " + readBytes + " bytes queued, CSTS "
                            + String.format("0x%x", csts) + "; " + report + " (" + completedFirst + " of " + submitted
                            + " reads had completed before it, " + aborted + " completed with '"
                            + NvmeQueuePair.describeStatus(NvmeQueuePair.STATUS_HOST_ABORTED) + "'); idle reset: " + idle
                            + "; data intact, usage unchanged: " + before + "; queues SQ/CQ at "
                            + nvme.queuePair(0) + ", " + nvme.queuePair(1));
                }
            } finally {
                nvme.close();
            }
        }
    }

    @Test
    void aClosedControllerAndADeviceWithoutAResetMethodRefuseClearly() {
        try (PciSession session = NvmeRig.open("hil-nvme-reset-closed", false)) {
            NvmeController nvme = NvmeController.attach(session.pci(), session.dma());
            nvme.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, nvme::reset);
            assertTrue(closed.getMessage().contains("cannot reset a closed controller"), closed.getMessage());
        }
        PciSession edu = Rig.eduSession();
        if (Rig.numa()) {
            // Behind a pxb-pcie root port the edu has a bus reset (reset_method "bus"); on bus 0 it has none.
            assertTrue(edu.pci().canReset(), "the edu behind a root port reports VFIO_DEVICE_FLAGS_RESET");
            Rig.note("reset: edu " + edu.pci().address() + " behind a root port can reset (bus reset)");
            return;
        }
        DmaUsageException e = assertThrows(DmaUsageException.class, () -> edu.pci().reset());
        assertTrue(e.getMessage().contains("no reset method"), e.getMessage());
        assertFalse(edu.pci().canReset());
        Rig.note("reset refused: closed NVMe controller; edu " + edu.pci().address() + ": " + e.getMessage());
    }

    /** Waits until the controller reports a fatal status (CSTS.CFS, bit 1): it tried to fetch without bus mastering. */
    private static int awaitFatalStatus(PciSession session) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int csts;
        do {
            csts = session.pci().bar(0).read32(0x1c);
            if ((csts & 2) != 0) {
                return csts;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("CSTS.CFS did not come within 10 s without bus mastering: CSTS " + Integer.toHexString(csts));
    }

    private static Map<Integer, Integer> withoutKnown(Map<Integer, Integer> statuses) {
        Map<Integer, Integer> rest = new HashMap<>(statuses);
        rest.remove(0);
        rest.remove(NvmeQueuePair.STATUS_HOST_ABORTED);
        return rest;
    }
}
