package io.dmadirect.cli;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.e1000e.E1000eOptions;
import io.dmadirect.drivers.e1000e.FrameExchange;
import io.dmadirect.drivers.e1000e.SimulatedNicPair;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * A tour of the policy on a simulated x86 machine: devices with different masks and wiring allocate
 * coherent memory, each device's DMA engine writes into it (truncating addresses to its real address
 * lines), and the CPU checks the bytes. Each line says what was asked, what was given, and why.
 */
final class SimulatedDemo {
    private final PrintStream out;
    private int passed;
    private int failed;

    SimulatedDemo(PrintStream out) {
        this.out = out;
    }

    boolean run() {
        out.println("dmadirect demo: the dma-direct policy on a simulated machine");
        out.println("(real devices: ./dmadirect demo without --simulated, on bound devices or in the QEMU rig)");
        out.println();
        try (SimulatedPlatform platform = SimulatedPlatform.builder().name("x86-sim")
                .region(0, 16 * MiB)                 // ZONE_DMA
                .region(128 * MiB, 64 * MiB)         // ZONE_DMA32, above the 28-bit line
                .region(2 * GiB, 64 * MiB)           // ZONE_DMA32
                .region(4 * GiB, 256 * MiB)          // ZONE_NORMAL
                .systemMaxPhys(64 * GiB - 1)         // the machine has far more RAM than we hold
                .build()) {
            out.println("machine: " + platform.memoryStats());
            out.println("required mask (dma_get_required_mask): " + platform.requiredMask());
            out.println();

            DmaDevice nvme = device(platform, DeviceProperties.simple("nvme0 (64-bit)"), 64);
            DmaDevice edu = device(platform, DeviceProperties.simple("edu (28-bit)"), 28);
            DmaDevice isa = device(platform, DeviceProperties.simple("legacy (24-bit)"), 24);
            DmaDevice bus = device(platform, DeviceProperties.simple("nic behind a 30-bit bus").withBusDmaLimit((1L << 30) - 1), 64);
            DmaDevice arm = device(platform, DeviceProperties.simple("non-coherent dev").withCoherent(false), 32);

            allocate(platform, nvme, 64, 4 * KiB);
            allocate(platform, nvme, 64, 8 * MiB);
            allocate(platform, edu, 28, 4 * KiB);
            allocate(platform, isa, 24, 64 * KiB);
            allocate(platform, bus, 30, 256 * KiB);
            allocate(platform, arm, 32, 16 * KiB);
            allocate(platform, arm, 32, 16 * KiB, DmaAttr.ATOMIC);
            allocate(platform, nvme, 64, 4 * KiB, DmaAttr.NO_KERNEL_MAPPING);
            expectRefusal(isa, 32 * MiB);
        }
        nicPair();
        out.println();
        out.printf("%d passed, %d failed%n", passed, failed);
        return failed == 0;
    }

    /** [nic] issue 22: the e1000e driver on two modelled NICs on one simulated wire, frames verified byte for byte. */
    private void nicPair() {
        out.println();
        try (SimulatedNicPair nics = SimulatedNicPair.open(E1000eOptions.DEFAULTS)) {
            FrameExchange.Result r = FrameExchange.exchange(nics.a(), nics.b(), FrameExchange.lengths(64, 1514, 10), 32,
                    22, Duration.ofSeconds(10));
            out.println("  e1000e pair on a simulated wire, frames of 64 to 1514 bytes in batches of 32: " + r + "; "
                    + (r.allVerified() ? "PASS" : "FAIL"));
            if (r.allVerified()) {
                passed++;
            } else {
                failed++;
            }
        }
    }

    private DmaDevice device(SimulatedPlatform platform, DeviceProperties properties, int bits) {
        DmaDevice device = platform.attach(properties);
        device.setMaskAndCoherent(DmaMask.bits(bits));
        return device;
    }

    private void allocate(SimulatedPlatform platform, DmaDevice device, int hardwareBits, long size, DmaAttr... attrs) {
        String asked = String.format("%-26s %-8s %s", device.name(), Sizes.format(size),
                attrs.length == 0 ? "" : Arrays.toString(attrs));
        DmaBuffer buffer;
        try {
            buffer = device.allocCoherent(size, attrs);
        } catch (DmaException e) {
            out.println(asked);
            out.println("    FAIL: " + e.getMessage());
            failed++;
            return;
        }
        try (buffer) {
            String verdict = check(platform.busMaster(device, hardwareBits), buffer);
            out.println(asked);
            out.printf("    dma 0x%-12x %s; %s%n", buffer.dmaAddress(), buffer.report(), verdict);
        }
    }

    /** An allocation nothing in reach can hold must be refused with an error that explains it. */
    private void expectRefusal(DmaDevice device, long size) {
        out.printf("%-26s %-8s (more than the device can reach)%n", device.name(), Sizes.format(size));
        try (DmaBuffer unexpected = device.allocCoherent(size)) {
            failed++;
            out.println("    FAIL: got " + unexpected.report() + " at 0x" + Long.toHexString(unexpected.dmaAddress()));
        } catch (DmaException e) {
            passed++;
            out.println("    PASS, refused: " + e.getMessage());
        }
    }

    /** The device writes; the CPU reads what it wrote. */
    private String check(SimulatedBusMaster engine, DmaBuffer buffer) {
        byte[] data = ("dma@" + Long.toHexString(buffer.dmaAddress())).getBytes(StandardCharsets.US_ASCII);
        if (!engine.write(buffer.dmaAddress(), data)) {
            failed++;
            return "FAIL: the device faulted: " + engine.faults();
        }
        if (!buffer.hasCpuView()) {
            passed++;
            return "PASS (device wrote; no CPU view, by request)";
        }
        byte[] seen = new byte[data.length];
        buffer.cpuView().get(seen);
        if (Arrays.equals(data, seen)) {
            passed++;
            return "PASS (device wrote, CPU read the same bytes)";
        }
        failed++;
        return "FAIL: the CPU does not see what the device wrote";
    }
}
