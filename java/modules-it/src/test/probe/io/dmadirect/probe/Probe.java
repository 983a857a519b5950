package io.dmadirect.probe;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.LowMemoryQuota;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What a user writes, run by ModulePathIT on the class path and on the module path: the simulated platform,
 * a device, coherent memory the device writes, a buffer mapped (bounced) that the device reads, a mapping of
 * coherent memory (direct unless bouncing is forced), and the types a user names to open a real host.
 * Prints one line the test checks.
 */
public final class Probe {
    private Probe() {
    }

    public static void main(String[] args) {
        // The real host's option types and the drivers: named and built, no host touched.
        LinuxPlatformOptions options = LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(64 * MiB))
                .withLowMemory(new LowMemoryQuota(0, 8 * MiB, 0, 20 * GiB));
        String names = options.getClass().getSimpleName() + "," + HugepageSize.SIZE_2M + "," + EduDriver.class.getSimpleName()
                + "," + PciAddress.parse("0000:00:04.0");
        try (SimulatedPlatform platform = SimulatedPlatform.builder()
                .region(0, 16 * MiB).region(GiB, 64 * MiB).region(4 * GiB, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("probe"));
            device.setMaskAndCoherent(DmaMask.bits(32));
            SimulatedBusMaster hardware = platform.busMaster(device, 32);
            byte[] pattern = "written by the device".getBytes();
            boolean coherentOk;
            boolean coherentMapBounced;
            try (DmaBuffer ring = device.allocCoherent(4096)) {
                hardware.write(ring.dmaAddress(), pattern);
                byte[] seen = new byte[pattern.length];
                ring.cpuView().get(0, seen);
                coherentOk = Arrays.equals(seen, pattern);
                try (DmaMapping mapping = device.map(ring.cpuView(), DmaDirection.TO_DEVICE)) {
                    coherentMapBounced = mapping.isBounced();
                }
            }
            ByteBuffer plain = ByteBuffer.allocateDirect(4096);   // not DMA memory: bounces
            plain.put(0, pattern);
            boolean streamOk;
            boolean streamBounced;
            try (DmaMapping mapping = device.map(plain, DmaDirection.TO_DEVICE)) {
                streamBounced = mapping.isBounced();
                streamOk = Arrays.equals(hardware.read(mapping.dmaAddress(), pattern.length), pattern);
            }
            System.out.println("probe: core module=" + DmaDevice.class.getModule().getName()
                    + " probe module=" + Probe.class.getModule().getName()
                    + " coherent=" + coherentOk + " streaming=" + streamOk + " streamBounced=" + streamBounced
                    + " coherentMapBounced=" + coherentMapBounced + " names=" + names);
        }
    }
}
