package io.dmadirect.examples;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** The guide's section on testing a driver without hardware. */
public final class TestingOnSimulation {
    private TestingOnSimulation() {
    }

    /**
     * A device with 28 address lines writes into a buffer its driver allocated. Returns whether the CPU
     * sees what the device wrote: true with the right mask, false when the driver claims 64 bits.
     */
    public static boolean deviceWriteArrives(int declaredMaskBits) {
        // region:bus-master
        try (SimulatedPlatform platform = SimulatedPlatform.builder()
                .region(0, 16 * MiB).region(GiB, 64 * MiB).region(4 * GiB, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("edu"));
            SimulatedBusMaster hardware = platform.busMaster(device, 28);   // what the silicon drives
            device.setMaskAndCoherent(DmaMask.bits(declaredMaskBits));     // what the driver declares
            byte[] pattern = "written by the device".getBytes();
            try (DmaBuffer buffer = device.allocCoherent(4096)) {
                hardware.write(buffer.dmaAddress(), pattern);   // high address bits are dropped
                byte[] seen = new byte[pattern.length];
                buffer.cpuView().get(0, seen);
                return Arrays.equals(seen, pattern);           // false when the mask was a lie
            }
        }
        // endregion:bus-master
    }

    /** A confidential guest: every streaming mapping bounces through shared memory. */
    public static boolean confidentialGuestBounces() {
        // region:confidential
        try (SimulatedPlatform platform = SimulatedPlatform.builder()
                .region(0, 16 * MiB).region(GiB, 64 * MiB)
                .confidentialGuest(true)                          // as in a TDX or SEV-SNP guest
                .build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nic"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            try (DmaBuffer ring = device.allocCoherent(4096);     // from the shared (decrypted) pool
                 DmaMapping mapping = device.map(ring.cpuView(), DmaDirection.TO_DEVICE)) {
                return device.forcedUnencrypted() && mapping.isBounced();
            }
        }
        // endregion:confidential
    }

    /** The streaming examples of the guide, run on one simulated device; used by the examples' test. */
    public static int streaming() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder()
                .region(0, 16 * MiB).region(GiB, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("nic"));
            device.setMaskAndCoherent(DmaMask.bits(32));
            SimulatedBusMaster hardware = platform.busMaster(device, 32);
            int checks = 0;
            try (DmaBuffer ring = device.allocCoherent(8192)) {
                checks += StreamingExamples.toDevice(device, ring.cpuView()) ? 0 : 1;            // direct
                checks += StreamingExamples.toDevice(device, ByteBuffer.allocateDirect(512)) ? 1 : 0;
                checks += StreamingExamples.heapArray(device) ? 1 : 0;
                checks += SimulatedQuickStart.attributes(device) ? 1 : 0;
                ByteBuffer receive = ByteBuffer.allocateDirect(64);
                int first = StreamingExamples.fromDevice(device, receive,
                        dma -> hardware.write(dma, new byte[] {0, 0, 0, 42}));
                checks += first == 42 ? 1 : 0;
                checks += StreamingExamples.syncThenSkipAtUnmap(device, ByteBuffer.allocateDirect(64),
                        dma -> hardware.write(dma, new byte[] {0, 0, 0, 7})) == 7 ? 1 : 0;
                checks += StreamingExamples.scatterList(device, ByteBuffer.allocateDirect(64),
                        ring.cpuView()) == 64 + 8192 ? 1 : 0;
            }
            return hardware.faults().isEmpty() ? checks : -1;
        }
    }
}
