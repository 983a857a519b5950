package io.dmadirect.examples;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.AllocationReport;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;

/** The guide's first example: a coherent buffer on the simulated platform, and what it got. */
public final class SimulatedQuickStart {
    private SimulatedQuickStart() {
    }

    /** Allocates one ring for a 28-bit device and returns the allocation's report. */
    public static AllocationReport firstAllocation() {
        // region:quick-start
        try (SimulatedPlatform platform = SimulatedPlatform.builder()
                .region(0, 16 * MiB)              // ZONE_DMA
                .region(2 * GiB, 64 * MiB)        // ZONE_DMA32
                .region(4 * GiB, 256 * MiB)       // ZONE_NORMAL
                .build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("edu"));
            device.setMaskAndCoherent(DmaMask.bits(28));   // the device drives 28 address lines
            try (DmaBuffer ring = device.allocCoherent(4096)) {
                long dma = ring.dmaAddress();              // program this into the device
                ByteBuffer cpu = ring.cpuView();           // the same bytes, for the CPU
                cpu.putInt(0, 0xcafe);
                System.out.printf("ring at DMA 0x%x: %s%n", dma, ring.report());
                return ring.report();                      // PAGES from DMA (optimal was DMA32); ...
            }
        }
        // endregion:quick-start
    }

    /** The attributes of {@code dma_alloc_attrs()}: no zeroing, and no CPU view. */
    public static boolean attributes(DmaDevice device) {
        // region:attributes
        try (DmaBuffer ring = device.allocCoherent(64 * 1024, DmaAttr.SKIP_ZEROING);   // the driver fills it
             DmaBuffer deviceOnly = device.allocCoherent(1 << 20, DmaAttr.NO_KERNEL_MAPPING)) {
            // deviceOnly.cpuView() would throw: the memory has a DMA address and no CPU view
            return ring.hasCpuView() && !deviceOnly.hasCpuView();
        }
        // endregion:attributes
    }
}
