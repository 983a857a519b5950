package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.pci.AddressMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: negative control, the check can fail.
 * Device: edu, 28 address lines.
 * Setup: a second DmaDevice on the same platform whose "driver" claims 64 bits (the mask check is
 * bypassed); 2 MiB buffers are taken from it until one lies above 256 MiB.
 * Action: fill that buffer with a pattern and DMA it RAM -> device, then device -> a good buffer.
 * (Only the read direction in PA mode: a device write to the truncated physical address would
 * corrupt guest memory we do not own.) In IOVA mode also DMA device -> the wrong buffer.
 * Seen: the device never gets the pattern (it read the alias at addr & (2^28 - 1), or the IOMMU
 * refused it); in IOVA mode the wrong buffer never receives the device's data either.
 */
class EduWrongMaskTest {
    private static final int N = EduDriver.MAX_TRANSFER;

    @Test
    void aBufferAboveTheMaskIsNotDelivered() {
        EduDriver edu = Rig.edu();
        DmaDevice wrong = Rig.eduSession().platform().attach(DeviceProperties.simple("edu-wrong-driver"));
        List<DmaBuffer> taken = new ArrayList<>();
        try {
            wrong.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer high = null;
            for (int i = 0; i < 400 && high == null; i++) {
                DmaBuffer b = wrong.allocCoherent(2 * Sizes.MiB);
                taken.add(b);
                if (b.dmaAddress() > Rig.MASK_28) {
                    high = b;
                }
            }
            assertNotNull(high, "no memory above 256 MiB to misuse: boot the guest with more hugepages");
            byte[] pattern = EduMaskHonouredTest.pattern(5);
            high.cpuView().put(pattern);
            try (DmaBuffer zeros = edu.dma().allocCoherent(N); DmaBuffer back = edu.dma().allocCoherent(N)) {
                edu.toDevice(zeros.dmaAddress(), 0, N); // the device buffer starts as zeros
                edu.toDevice(high.dmaAddress(), 0, N);
                edu.fromDevice(0, back.dmaAddress(), N);
                byte[] seen = new byte[N];
                back.cpuView().get(seen);
                assertFalse(Arrays.equals(pattern, seen), "the device must not have received the pattern from "
                        + Sizes.hex(high.dmaAddress()));
                Rig.note("negative control: buffer at " + Sizes.hex(high.dmaAddress()) + " (mask claimed 64 bits);"
                        + " device read alias " + Sizes.hex(high.dmaAddress() & Rig.MASK_28)
                        + " instead; pattern NOT delivered (as expected)");
                if (Rig.mode() == AddressMode.IOVA) {
                    zeros.cpuView().put(EduMaskHonouredTest.pattern(6));
                    edu.toDevice(zeros.dmaAddress(), 0, N);
                    byte[] before = new byte[N];
                    high.cpuView().get(before);
                    edu.fromDevice(0, high.dmaAddress(), N);
                    byte[] after = new byte[N];
                    high.cpuView().get(after);
                    assertFalse(Arrays.equals(EduMaskHonouredTest.pattern(6), after),
                            "the wrong buffer must not receive the device's data");
                    Rig.note("negative control (IOVA): device write to " + Sizes.hex(high.dmaAddress())
                            + " went to alias " + Sizes.hex(high.dmaAddress() & Rig.MASK_28)
                            + (Rig.eduSession().iovaMemory().orElseThrow().isMapped(high.dmaAddress() & Rig.MASK_28)
                                    ? " (mapped: memory of another buffer)" : " (unmapped: IOMMU fault)")
                            + "; the buffer never saw it");
                }
            }
        } finally {
            taken.forEach(DmaBuffer::close);
            wrong.close();
        }
    }
}
