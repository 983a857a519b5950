package io.dmadirect.drivers.nvme;

import io.dmadirect.DmaBuffer;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * A small fio-like load on one queue pair: random reads of {@code blockBytes} at a fixed queue depth
 * for a fixed time, into coherent buffers (one per slot). Used by the demo and by the comparison with
 * the kernel driver (docs/benchmarks.md).
 */
public final class NvmeBench {
    /** What a run measured. */
    public record Result(int queueDepth, int blockBytes, long ios, long nanos, boolean interrupts) {
        public double iops() {
            return ios * 1e9 / nanos;
        }

        public double mibPerSecond() {
            return iops() * blockBytes / (1024.0 * 1024.0);
        }

        @Override
        public String toString() {
            return String.format("randread bs=%d QD%d %s: %.0f IOPS (%.1f MiB/s, %d I/Os in %.1f s)", blockBytes,
                    queueDepth, interrupts ? "irq" : "polled", iops(), mibPerSecond(), ios, nanos / 1e9);
        }
    }

    private NvmeBench() {
    }

    /**
     * Random reads of {@code blockBytes} over the first {@code spanBytes} of {@code ns} for {@code time}
     * at {@code queueDepth} (at most {@link NvmeQueuePair#capacity()}).
     */
    public static Result randomRead(NvmeController controller, NvmeQueuePair pair, NvmeNamespace ns, int blockBytes,
            long spanBytes, int queueDepth, Duration time) {
        if (queueDepth < 1 || queueDepth > pair.capacity()) {
            throw new IllegalArgumentException("queue depth " + queueDepth + ": the pair holds 1 to " + pair.capacity());
        }
        long blocksPerIo = blockBytes / ns.blockSize();
        long slots = Math.min(spanBytes, ns.bytes()) / blockBytes;
        DmaBuffer buffers = controller.dmaDevice().allocCoherent((long) queueDepth * blockBytes);
        try {
            long base = buffers.dmaAddress();
            long[] slotOfCid = new long[pair.capacity()];
            int[] bufOfCid = new int[pair.capacity()];
            SplittableRandom random = new SplittableRandom(42);
            long[] completedIos = {0};
            int[] failures = {0};
            int[] freeBufs = new int[queueDepth];
            int[] freeTop = {queueDepth};
            for (int i = 0; i < queueDepth; i++) {
                freeBufs[i] = i;
            }
            NvmeQueuePair.CompletionHandler handler = (cid, status) -> {
                if (status != 0) {
                    failures[0]++;
                }
                completedIos[0]++;
                freeBufs[freeTop[0]++] = bufOfCid[cid];
            };
            long start = System.nanoTime();
            long end = start + time.toNanos();
            long now = start;
            while (now < end) {
                while (freeTop[0] > 0) {
                    int b = freeBufs[--freeTop[0]];
                    long lba = random.nextLong(slots) * blocksPerIo;
                    int cid = pair.submitRead(ns, lba, base + (long) b * blockBytes, blockBytes);
                    bufOfCid[cid] = b;
                    slotOfCid[cid] = lba;
                }
                if (pair.interrupts()) {
                    pair.await(handler, Duration.ofSeconds(5));
                } else {
                    pair.poll(handler);
                }
                now = System.nanoTime();
            }
            long ios = completedIos[0];
            long elapsed = System.nanoTime() - start;
            long drainDeadline = System.nanoTime() + 30_000_000_000L;
            while (pair.outstanding() > 0 && System.nanoTime() < drainDeadline) {
                pair.await(handler, Duration.ofMillis(100));
            }
            if (failures[0] > 0) {
                throw new IllegalStateException("NVMe benchmark: " + failures[0] + " reads failed");
            }
            return new Result(queueDepth, blockBytes, ios, elapsed, pair.interrupts());
        } finally {
            if (pair.outstanding() == 0) {
                buffers.close();
            }
        }
    }

    /**
     * {@code java -cp ... io.dmadirect.drivers.nvme.NvmeBench BDF SECONDS [polled|irq|both]}: QD1 and QD32
     * random 4 KiB reads over the whole namespace, one line per run (used by test-rigs/hil/nvme-vs-kernel.sh).
     */
    public static void main(String[] args) {
        io.dmadirect.pci.PciAddress bdf = io.dmadirect.pci.PciAddress.parse(args[0]);
        Duration time = Duration.ofSeconds(Long.parseLong(args[1]));
        String modes = args.length > 2 ? args[2] : "polled";
        try (io.dmadirect.host.PciSession s = io.dmadirect.host.PciSession.open(bdf,
                io.dmadirect.linux.hugepages.HugepageOptions.DEFAULTS.withInitialBytes(32L << 20).withName("nvme-bench"))) {
            for (String mode : modes.equals("both") ? new String[] {"polled", "irq"} : new String[] {modes}) {
                try (NvmeController c = NvmeController.attach(s.pci(), s.dma(),
                        NvmeOptions.DEFAULTS.withQueueDepth(64).withInterrupts(mode.equals("irq")))) {
                    NvmeNamespace ns = c.namespace(1);
                    NvmeQueuePair p = c.queuePair(0);
                    randomRead(c, p, ns, 4096, ns.bytes(), 32, Duration.ofSeconds(2)); // JIT warm-up
                    for (int qd : new int[] {1, 32}) {
                        System.out.println("dmadirect " + randomRead(c, p, ns, 4096, ns.bytes(), qd, time));
                    }
                }
            }
        }
    }
}
