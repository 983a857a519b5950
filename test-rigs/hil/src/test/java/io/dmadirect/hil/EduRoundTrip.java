package io.dmadirect.hil;

import io.dmadirect.DmaBuffer;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.host.PciSession;
import java.util.Arrays;
import java.util.Optional;

/**
 * One edu round trip on a session of its own: a pattern of {@link EduDriver#MAX_TRANSFER} bytes goes from
 * one coherent buffer to the device and back into another, and must arrive intact; in IOVA mode both
 * buffers must also be mapped in the IOMMU. Used by tests that open the edu themselves (a child JVM as
 * another user, a session through a chosen IOMMU interface).
 */
final class EduRoundTrip {
    private EduRoundTrip() {
    }

    /** The round trip's one-line account ("DMA ... data MATCH ..."); throws when the data or the mapping is wrong. */
    static String run(PciSession session) {
        int n = EduDriver.MAX_TRANSFER;
        Optional<IovaMemory> iova = session.iovaMemory();
        try (EduDriver edu = EduDriver.attach(session.pci(), session.dma());
                DmaBuffer src = edu.dma().allocCoherent(n);
                DmaBuffer dst = edu.dma().allocCoherent(n)) {
            byte[] pattern = new byte[n];
            for (int i = 0; i < n; i++) {
                pattern[i] = (byte) (i * 7 + (i >>> 8) + 0x3c);
            }
            src.cpuView().put(pattern);
            edu.toDevice(src.dmaAddress(), 0, n);
            edu.fromDevice(0, dst.dmaAddress(), n);
            byte[] seen = new byte[n];
            dst.cpuView().get(seen);
            boolean mapped = iova.map(m -> m.isMapped(src.dmaAddress()) && m.isMapped(dst.dmaAddress())).orElse(true);
            int mismatch = Arrays.mismatch(pattern, seen);
            String kind = iova.isPresent() ? "IOVA" : "phys";
            String line = "DMA " + n + " bytes RAM -> edu -> RAM: src " + kind + " " + Sizes.hex(src.dmaAddress())
                    + ", dst " + kind + " " + Sizes.hex(dst.dmaAddress())
                    + (iova.isEmpty() ? "" : mapped ? " (both mapped in the IOMMU)" : " (NOT MAPPED)")
                    + ", data " + (mismatch < 0 ? "MATCH" : "DIFFERS at byte " + mismatch) + ", interrupts "
                    + edu.interruptsSeen();
            if (mismatch >= 0 || !mapped) {
                throw new IllegalStateException("the round trip failed: " + line);
            }
            return line;
        }
    }
}
