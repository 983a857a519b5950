package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.pci.AddressMode;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: the 28-bit mask is honoured.
 * Device: edu, which ANDs every DMA address with 2^28 - 1 and so silently loses wider ones.
 * Setup: the driver set a 28-bit mask; buffers come from the library (zone fallback in PA mode, IOVA
 * placement in IOVA mode).
 * Action: for 8 distinct patterns, DMA a source buffer RAM -> device, then device -> a second buffer.
 * Seen: every byte of every pattern arrives; every buffer's DMA address is below 256 MiB.
 */
class EduMaskHonouredTest {
    private static final int N = EduDriver.MAX_TRANSFER;

    @Test
    void distinctPatternsRoundTripThroughTheDevice() {
        EduDriver edu = Rig.edu();
        for (int p = 0; p < 8; p++) {
            try (DmaBuffer src = edu.dma().allocCoherent(N); DmaBuffer dst = edu.dma().allocCoherent(N)) {
                byte[] pattern = pattern(p);
                src.cpuView().put(pattern);
                edu.toDevice(src.dmaAddress(), 0, N);
                edu.fromDevice(0, dst.dmaAddress(), N);
                byte[] seen = new byte[N];
                dst.cpuView().get(seen);
                assertTrue(src.dmaAddress() <= Rig.MASK_28 && dst.dmaAddress() <= Rig.MASK_28,
                        "buffers within the 28-bit mask: " + src.report() + " / " + dst.report());
                assertArrayEquals(pattern, seen, "pattern " + p + " through the device");
                if (p == 0 || p == 7) {
                    Rig.note("mask: pattern " + p + " round-tripped " + N + " bytes, src "
                            + addressKind() + " " + Sizes.hex(src.dmaAddress()) + " (" + src.zone() + ", "
                            + src.path() + "), dst " + Sizes.hex(dst.dmaAddress()) + "; all bytes identical");
                }
            }
        }
    }

    private static String addressKind() {
        return Rig.mode() == AddressMode.IOVA ? "IOVA" : "phys";
    }

    static byte[] pattern(int p) {
        byte[] b = new byte[N];
        for (int i = 0; i < N; i++) {
            b[i] = (byte) (p * 37 + i * (2 * p + 1) + (i >>> 8));
        }
        return b;
    }
}
