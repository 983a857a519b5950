package io.dmadirect.cli;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.e1000e.E1000eBench;
import io.dmadirect.drivers.e1000e.E1000eNic;
import io.dmadirect.drivers.e1000e.FrameExchange;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.drivers.nvme.NvmeBench;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeOptions;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.linux.sysfs.PciFunction;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciSession;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo on real devices bound to vfio-pci or uio_pci_generic: the edu driver under its 28-bit
 * mask, the NVMe driver (identify, write, read, verify, throughput), and two e1000e NICs on one wire
 * (frames sent by one, received by the other, verified byte for byte; packets per second). Runs on the host when such
 * devices are bound, and inside the QEMU rig otherwise ({@link RigDemo}).
 */
final class DeviceDemo {
    static final int EDU_VENDOR = 0x1234;
    static final int EDU_DEVICE = 0x11e8;
    /** [nic] issue 22: the Intel 82574L, QEMU's e1000e. */
    static final int E1000E_VENDOR = 0x8086;
    static final int E1000E_DEVICE = 0x10d3;

    /** A bound device the demo knows how to drive. */
    record Found(PciAddress address, String kind, String driver) {
    }

    private final PrintStream out;
    private final List<String> verdicts = new ArrayList<>();
    private boolean failed;

    DeviceDemo(PrintStream out) {
        this.out = out;
    }

    /** edu devices and NVMe controllers bound to vfio-pci or uio_pci_generic. */
    static List<Found> findBound(PciBus bus) {
        List<Found> found = new ArrayList<>();
        for (PciFunction d : bus.devices()) {
            String driver = d.driver();
            if (!"vfio-pci".equals(driver) && !"uio_pci_generic".equals(driver)) {
                continue;
            }
            String kind = d.vendor() == EDU_VENDOR && d.device() == EDU_DEVICE ? "edu"
                    : d.classCode() == NvmeController.CLASS_NVME ? "nvme"
                    : d.vendor() == E1000E_VENDOR && d.device() == E1000E_DEVICE ? "nic" : null;
            if (kind != null) {
                found.add(new Found(PciAddress.parse(d.address()), kind, driver));
            }
        }
        found.sort((a, b) -> a.address().toString().compareTo(b.address().toString()));
        return found;
    }

    boolean run(List<Found> devices) {
        out.println("dmadirect demo: userspace drivers on real devices, DMA memory from the dma-direct policy");
        List<Found> nics = new ArrayList<>();
        for (Found f : devices) {
            if (f.kind().equals("nic")) {
                nics.add(f);
                continue;
            }
            out.println();
            try {
                if (f.kind().equals("edu")) {
                    edu(f);
                } else {
                    nvme(f);
                }
            } catch (RuntimeException e) {
                fail(f.kind() + " " + f.address() + ": " + e);
            }
        }
        if (nics.size() >= 2) {
            out.println();
            try {
                nics(nics.get(0), nics.get(1));
            } catch (RuntimeException e) {
                fail("e1000e " + nics.get(0).address() + " -> " + nics.get(1).address() + ": " + e);
            }
        } else if (nics.size() == 1) {
            out.println();
            out.println("e1000e " + nics.get(0).address() + ": one NIC alone; the demo sends from one to another on the"
                    + " same wire, so it needs two");
        }
        out.println();
        out.println("summary:");
        verdicts.forEach(v -> out.println("  " + v));
        out.println(failed ? "FAIL" : "PASS");
        return !failed;
    }

    private void edu(Found f) {
        // PA mode: hugepages anywhere in RAM, so take enough that some lie below the edu's 256 MiB; IOVA mode
        // places IOVAs under the mask and needs little.
        boolean pa = !"vfio-pci".equals(f.driver()) || isNoIommu(f);
        long bytes = pa ? 560 * Sizes.MiB : 16 * Sizes.MiB;
        try (PciSession s = PciSession.open(f.address(), HugepageOptions.DEFAULTS.withInitialBytes(bytes).withName("demo-edu"));
                EduDriver edu = EduDriver.attach(s.pci(), s.dma())) {
            out.println("edu " + f.address() + " on " + f.driver() + ", " + s.mode() + " mode" + through(s) + ", DMA mask "
                    + s.dma().dmaMask() + " (the device drives 28 address lines and truncates the rest)");
            out.printf("  id 0x%08x, liveness 0x12345678 -> 0x%08x%n", edu.id(), edu.liveness(0x12345678));
            int n = 4000;
            try (DmaBuffer src = s.dma().allocCoherent(n); DmaBuffer dst = s.dma().allocCoherent(n)) {
                allocation("  src", src);
                allocation("  dst", dst);
                byte[] data = pattern(n, 28);
                src.cpuView().put(data);
                long t0 = System.nanoTime();
                edu.toDevice(src.dmaAddress(), 0, n);
                edu.fromDevice(0, dst.dmaAddress(), n);
                long ns = System.nanoTime() - t0;
                byte[] got = new byte[n];
                dst.cpuView().get(got);
                boolean ok = Arrays.equals(data, got) && dst.dmaAddress() + n - 1 <= (1L << 28) - 1;
                out.printf("  DMA RAM -> device -> RAM, %d bytes each way: %s in %.1f ms (%.1f KiB/s; the edu "
                        + "takes 100 ms of virtual time per DMA)%n", n, ok ? "MATCH" : "DIFFER", ns / 1e6,
                        2.0 * n / 1024 / (ns / 1e9));
                verdict(ok, "edu " + f.address() + " (" + s.mode() + ", 28-bit mask): DMA both ways "
                        + (ok ? "byte-identical" : "CORRUPTED"));
            }
        }
    }

    private static boolean isNoIommu(Found f) {
        PciBus bus = new PciBus(HostTree.HOST);
        return bus.iommuGroupOf(f.address()).map(bus::noIommuGroup).orElse(false);
    }

    private void nvme(Found f) {
        try (PciSession s = PciSession.open(f.address(), HugepageOptions.DEFAULTS.withInitialBytes(48 * Sizes.MiB)
                .withName("demo-nvme"));
                NvmeController c = NvmeController.attach(s.pci(), s.dma(), NvmeOptions.DEFAULTS.withIoQueuePairs(2))) {
            NvmeNamespace ns = c.namespaces().get(0);
            out.println("nvme " + f.address() + " on " + f.driver() + ", " + s.mode() + " mode" + through(s) + ", DMA mask "
                    + s.dma().dmaMask() + ", min_align_mask " + s.dma().minAlignMask());
            out.println("  identify: model '" + c.identity().model() + "', serial '" + c.identity().serial()
                    + "', firmware '" + c.identity().firmware() + "', NVMe " + (c.version() >>> 16) + "."
                    + (c.version() >>> 8 & 0xff) + ", MDTS " + Sizes.format(c.maxTransferBytes()) + ", " + ns);
            NvmeQueuePair q = c.queuePair(0);
            out.println("  " + q + "; " + c.queuePairs().size() + " I/O pairs");
            allocation("  SQ", q.buffers()[0]);
            long size = Math.min(4 * Sizes.MiB, ns.bytes() / 2);
            boolean scratch = "1".equals(System.getenv("DMADIRECT_RIG")) || "1".equals(System.getenv("DMADIRECT_DEMO_WRITE"));
            if (!scratch) {
                out.println("  (not the rig: this disk is only read; DMADIRECT_DEMO_WRITE=1 lets the demo overwrite its "
                        + "first 4 MiB and 64 KiB at 8 MiB)");
            }
            try (DmaBuffer w = s.dma().allocCoherent(size); DmaBuffer r = s.dma().allocCoherent(size)) {
                allocation("  data", w);
                byte[] data = pattern((int) size, 64);
                w.cpuView().put(data);
                long lba = 0;
                double wt = 0;
                if (scratch) {
                    long t0 = System.nanoTime();
                    q.write(ns, lba, w, 0, size);
                    q.flush(ns);
                    wt = (System.nanoTime() - t0) / 1e9;
                } else {
                    q.read(ns, lba, w, 0, size); // a real disk: verify read-back of what is there, write nothing
                    w.cpuView().get(data);
                }
                long t1 = System.nanoTime();
                q.read(ns, lba, r, 0, size);
                double rt = (System.nanoTime() - t1) / 1e9;
                byte[] got = new byte[(int) size];
                r.cpuView().get(got);
                boolean ok = Arrays.equals(data, got);
                if (scratch) {
                    out.printf("  write %s + flush: %.1f MiB/s; read: %.1f MiB/s; verify: %s (%d commands of at most %s)%n",
                            Sizes.format(size), size / 1048576.0 / wt, size / 1048576.0 / rt, ok ? "MATCH" : "DIFFER",
                            (size + c.maxTransferBytes() - 1) / c.maxTransferBytes() * 2 + 1,
                            Sizes.format(c.maxTransferBytes()));
                } else {
                    out.printf("  read %s twice: %.1f MiB/s; same bytes both times: %s%n", Sizes.format(size),
                            size / 1048576.0 / rt, ok ? "yes" : "NO");
                }
                verdict(ok, "nvme " + f.address() + " (" + s.mode() + "): " + Sizes.format(size)
                        + (scratch ? " written, read back byte-identical" : " read back identically (no writes outside the rig)"));
            }
            if (scratch) {
                // a user byte[]: heap memory always bounces; the bounce slot keeps the page offset
                byte[] data = pattern(64 * 1024, 7);
                long lba = 16384;
                DmaMapping m = s.dma().map(data, 0, data.length, DmaDirection.TO_DEVICE);
                try (m) {
                    q.write(ns, lba, m, 0, data.length);
                }
                byte[] back = new byte[data.length];
                q.read(ns, lba, back, 0, back.length);
                boolean ok = Arrays.equals(data, back);
                out.println("  byte[] of 64 KiB: mapped " + (m.isBounced() ? "through a bounce buffer at " : "at ")
                        + Sizes.hex(m.dmaAddress()) + ", written and read back: " + (ok ? "MATCH" : "DIFFER"));
                verdict(ok, "nvme " + f.address() + ": byte[] through bounce buffers byte-identical");
            }
            Duration t = Duration.ofSeconds(Long.getLong("dmadirect.demo.benchSeconds", 2));
            NvmeBench.randomRead(c, q, ns, 4096, ns.bytes(), 32, Duration.ofMillis(500)); // warm-up
            for (int qd : new int[] {1, 32}) {
                out.println("  " + NvmeBench.randomRead(c, q, ns, 4096, ns.bytes(), qd, t));
            }
        }
    }

    /**
     * [nic] issue 22: two e1000e on one wire (the rig's QEMU hub): frames of 64 to 1514 bytes from the first to
     * the second, verified byte for byte, then a second of packets per second at batch 32.
     */
    private void nics(Found a, Found b) {
        HugepageOptions memory = HugepageOptions.DEFAULTS.withInitialBytes(6 * Sizes.MiB);
        try (PciSession sa = PciSession.open(a.address(), memory.withName("demo-nic-a"));
                PciSession sb = PciSession.open(b.address(), memory.withName("demo-nic-b"));
                E1000eNic tx = E1000eNic.attach(sa.pci(), sa.dma());
                E1000eNic rx = E1000eNic.attach(sb.pci(), sb.dma())) {
            out.println("e1000e " + a.address() + " -> " + b.address() + " on " + a.driver() + ", " + sa.mode() + " mode"
                    + through(sa) + ": " + tx + ", " + rx + ", pool " + tx.pool());
            boolean up = tx.awaitLink(Duration.ofSeconds(10)) && rx.awaitLink(Duration.ofSeconds(10));
            out.println("  link " + (up ? "up" : "DOWN"));
            int[] lengths = FrameExchange.lengths(64, 1514, 10);
            FrameExchange.Result r = FrameExchange.exchange(tx, rx, lengths, 32, 22, Duration.ofSeconds(60));
            out.println("  frames of 64 to 1514 bytes, batches of 32: " + r);
            verdict(up && r.allVerified(), "e1000e " + a.address() + " -> " + b.address() + " (" + sa.mode() + "): "
                    + r.sent() + " packets sent, " + r.received() + " received, " + r.verified() + " byte-identical");
            out.println("  " + E1000eBench.run(tx, rx, 32, Duration.ofSeconds(1)) + " (under TCG: QEMU's speed)");
            out.println("  sender:   " + tx.stats());
            out.println("  receiver: " + rx.stats());
        }
    }

    private void allocation(String label, DmaBuffer b) {
        out.println(label + ": " + Sizes.format(b.size()) + " at DMA " + Sizes.hex(b.dmaAddress()) + " -- "
                + b.report());
    }

    /** " through iommufd" or " through vfio-type1" in IOVA mode; nothing in PA mode. */
    private static String through(PciSession s) {
        return s.iommuName().map(name -> " through " + name).orElse("");
    }

    private void verdict(boolean ok, String what) {
        verdicts.add((ok ? "pass  " : "FAIL  ") + what);
        failed |= !ok;
    }

    private void fail(String what) {
        verdicts.add("FAIL  " + what);
        failed = true;
    }

    static byte[] pattern(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }
}
