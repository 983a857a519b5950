package io.dmadirect.hil;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMappingException;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.host.PciSession;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The NVMe driver under injected failures, in the child JVM of {@link AgentFaultInjectionTest}.
 * Attach: the driver allocates its admin queues, the identify page and two I/O queue pairs with their
 * MSI-X vectors; attaches are repeated (closing the good ones) until at least {@link #ATTACH_FAILURES}
 * failed, then one succeeds. After each failed attach the platform and the process must hold what they
 * held before it (memory, bounce slots, eventfds). I/O: rounds of coherent buffers (allocations in the
 * workload), a direct ByteBuffer and heap arrays (mappings in the driver, the streaming path), each read
 * back and compared; a round that meets a failure is retried, and nothing may be left in flight or held.
 */
final class NvmeFaults {
    static final int ATTACH_FAILURES = 3;
    static final int IO_ROUNDS = 5;
    private static final NvmeOptions OPTIONS = NvmeOptions.DEFAULTS.withIoQueuePairs(2).withInterrupts(true);

    private NvmeFaults() {
    }

    static void run() {
        try (PciSession session = NvmeRig.open("hil-agent-faults-nvme", false)) {
            DirectPlatform platform = (DirectPlatform) session.platform();
            UsageBaseline idle = UsageBaseline.of(platform);
            InjectedFailures attachFailures = new InjectedFailures("nvme attach");
            NvmeController nvme = null;
            int attempts = 0;
            while (nvme == null) {
                if (++attempts > 40) {
                    throw new IllegalStateException("nvme: no good attach after " + attachFailures + " in "
                            + attempts + " attempts");
                }
                try {
                    NvmeController c = NvmeController.attach(session.pci(), session.dma(), OPTIONS);
                    if (attachFailures.count() >= ATTACH_FAILURES) {
                        nvme = c;
                    } else {
                        c.close(); // attach again, until enough attaches have failed
                        idle.check(platform, "after closing a good attach");
                    }
                } catch (DmaAllocationException e) {
                    attachFailures.record(e);
                    idle.check(platform, "after failed attach " + attempts);
                }
            }
            if (!"dmadirect-rig".equals(nvme.identity().serial())) {
                throw new IllegalStateException("nvme: identify after the failures read serial '"
                        + nvme.identity().serial() + "'");
            }
            System.out.println("faults nvme: attach: good after " + attempts + " attempts, " + attachFailures
                    + " " + attachFailures.sites() + "; after each failure back to " + idle);
            InjectedFailures ioFailures = new InjectedFailures("nvme io");
            String io = io(nvme, session.dma(), platform, ioFailures);
            nvme.close();
            idle.check(platform, "after the controller was closed");
            System.out.println("faults nvme: io: " + io);
            Rig.note("agent inject on NVMe: attach good after " + attempts + " attempts (" + attachFailures
                    + ", each failed attach gave back memory and MSI-X eventfds); I/O " + io);
        }
    }

    private static String io(NvmeController nvme, DmaDevice dma, DirectPlatform platform, InjectedFailures failures) {
        NvmeQueuePair q = nvme.queuePair(1);
        NvmeNamespace ns = nvme.namespace(1);
        int good = 0;
        int attempt = 0;
        int recovered = 0;
        boolean afterFailure = false;
        while (good < IO_ROUNDS || failures.mappings() == 0) { // a streaming-path failure, whatever the seed
            if (++attempt > 20 * IO_ROUNDS) {
                throw new IllegalStateException("nvme io: " + good + " good rounds in " + attempt + " attempts: "
                        + failures);
            }
            // The PRP list pools keep the pages they grew (dma_pool), in a round that failed as in one that did not.
            UsageBaseline before = UsageBaseline.of(platform, nvme.prpPoolBytes());
            try {
                round(q, ns, dma, attempt);
                good++;
                if (afterFailure) {
                    recovered++;
                    afterFailure = false;
                }
            } catch (DmaAllocationException | DmaMappingException e) {
                failures.record(e);
                if (q.outstanding() != 0) {
                    throw new IllegalStateException("nvme io: " + q.outstanding() + " commands left in flight after "
                            + e.getMessage());
                }
                before.check(platform, nvme.prpPoolBytes(), "after an injected failure in I/O round " + attempt);
                afterFailure = true;
            }
        }
        return good + " rounds MATCH in " + attempt + " attempts, " + failures + " " + failures.sites() + ", "
                + recovered + " rounds right after a failure MATCH, nothing left in flight or held";
    }

    /** Coherent 16 KiB, a 128 KiB direct ByteBuffer into a byte[], 384 KiB of byte[] into a heap ByteBuffer. */
    private static void round(NvmeQueuePair q, NvmeNamespace ns, DmaDevice dma, int attempt) {
        long lba = 49152 + (attempt % 8) * 2048L; // 24 MiB in, 1 MiB per attempt
        byte[] data = NvmeRig.pattern(16384, attempt);
        byte[] got = new byte[data.length];
        try (DmaBuffer out = dma.allocCoherent(data.length); DmaBuffer in = dma.allocCoherent(data.length)) {
            out.cpuView().put(data);
            q.write(ns, lba, out, 0, data.length);
            q.read(ns, lba, in, 0, data.length);
            in.cpuView().get(got);
        }
        EduFaults.same(data, got, "nvme coherent round " + attempt);
        byte[] data2 = NvmeRig.pattern(128 * 1024, 1000 + attempt);
        q.write(ns, lba + 64, ByteBuffer.allocateDirect(data2.length).put(data2).flip());
        byte[] back = new byte[data2.length + 4];
        q.read(ns, lba + 64, back, 4, data2.length);
        EduFaults.same(data2, Arrays.copyOfRange(back, 4, back.length), "nvme direct ByteBuffer round " + attempt);
        byte[] data3 = NvmeRig.pattern(384 * 1024, 2000 + attempt);
        q.write(ns, lba + 512, data3, 0, data3.length);
        ByteBuffer heap = ByteBuffer.allocate(data3.length);
        q.read(ns, lba + 512, heap);
        EduFaults.same(data3, heap.array(), "nvme byte[] round " + attempt);
    }
}
