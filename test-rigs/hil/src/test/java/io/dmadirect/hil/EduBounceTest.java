package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.swiotlb.Swiotlb;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: streaming DMA of heap arrays bounces through the device (issue 5).
 * Device: edu, whose DMA mask is 28 bits (it ANDs wider addresses with 2^28 - 1 and loses them).
 * Setup: the shared session (IOVA mode behind intel-iommu, PA mode without); the driver set a 28-bit
 * mask; the platform's bounce pool (swiotlb) was taken when the session opened.
 * Action: map a heap {@code byte[]} TO_DEVICE, DMA it RAM -> device, unmap; map a second, zeroed heap
 * {@code byte[]} FROM_DEVICE, DMA device -> RAM, unmap (which copies the bounce buffer back).
 * Seen: both mappings bounced, both DMA addresses within the 28-bit mask (IOVA mode: the default pool lies
 * there; PA mode: an extra pool below the mask when the default one lies above), the second array is
 * byte-identical to the first, and the pool's slots are all free again.
 */
class EduBounceTest {
    private static final int N = EduDriver.MAX_TRANSFER; // 4095: the edu's hw_error() limit is 4096
    private static final int OFFSET = 100;                // a non-zero array offset, so the copy is checked too

    @Test
    void heapArraysBounceThroughTheDevice() {
        EduDriver edu = Rig.edu();
        DmaDevice dma = edu.dma();
        Swiotlb pool = ((DirectPlatform) Rig.eduSession().platform()).swiotlb();
        assertNotNull(pool, "the " + Rig.mode() + "-mode platform has a bounce pool");
        if (Rig.mode() == AddressMode.IOVA) {
            // IOVA mode places the lowest IOVAs first, and the default pool is taken there.
            assertTrue(pool.lastPhysAddress() <= Rig.MASK_28, "the default bounce pool lies within the 28-bit mask: "
                    + Sizes.hex(pool.firstPhysAddress()) + "-" + Sizes.hex(pool.lastPhysAddress()));
        }
        // PA mode: the default pool lies wherever a hugepage below 4 GiB was; beyond 28 bits the mapping takes
        // an extra pool below the edu's limit (SWIOTLB_DYNAMIC, PciPlatforms). Either way, the address is checked.
        long usedBefore = pool.usedSlots();

        byte[] source = new byte[OFFSET + N + 7];
        for (int i = 0; i < source.length; i++) {
            source[i] = (byte) (i * 131 + (i >>> 7) + 17);
        }
        long toAddress;
        try (DmaMapping out = dma.map(source, OFFSET, N, DmaDirection.TO_DEVICE)) {
            toAddress = out.dmaAddress();
            assertTrue(out.isBounced(), "a heap array always bounces");
            assertEquals(N, out.size());
            assertWithinMask(out);
            edu.toDevice(out.dmaAddress(), 0, N);
        }

        byte[] target = new byte[N + 3];
        long fromAddress;
        DmaMapping in = dma.map(target, 3, N, DmaDirection.FROM_DEVICE);
        try {
            fromAddress = in.dmaAddress();
            assertTrue(in.isBounced(), "a heap array always bounces");
            assertWithinMask(in);
            edu.fromDevice(0, in.dmaAddress(), N);
        } finally {
            in.close(); // dma_unmap_single: copies the bounce buffer back into target
        }
        assertTrue(in.isUnmapped());
        assertArrayEquals(Arrays.copyOfRange(source, OFFSET, OFFSET + N), Arrays.copyOfRange(target, 3, 3 + N),
                "bytes through the device, bounced both ways");
        assertFalse(allZero(target), "something arrived");
        assertEquals(usedBefore, pool.usedSlots(), "the bounce slots were released on unmap");

        String kind = Rig.mode() == AddressMode.IOVA ? "IOVA" : "phys";
        Rig.note("bounce: heap byte[] " + N + " bytes TO_DEVICE bounced at " + kind + " " + Sizes.hex(toAddress)
                + ", FROM_DEVICE bounced at " + kind + " " + Sizes.hex(fromAddress) + "; pool "
                + Sizes.hex(pool.firstPhysAddress()) + "-" + Sizes.hex(pool.lastPhysAddress()) + " (" + pool.stats()
                + "); all bytes identical after unmap");
    }

    private static void assertWithinMask(DmaMapping m) {
        assertTrue(m.dmaAddress() + m.size() - 1 <= Rig.MASK_28,
                "mapping within the 28-bit mask: " + Sizes.hex(m.dmaAddress()) + " + " + m.size());
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
