package io.dmadirect.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaPlatform;
import io.dmadirect.pci.PciDevice;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Test classes that {@link DmaTestExtensionTest} runs through the JUnit Platform launcher, to see what the
 * extension makes of them. Nested, so that surefire does not run them on their own. The line numbers of the
 * planted leaks are asserted: keep {@link #LEAK_LINE} and {@link #MAP_LEAK_LINE} on them.
 */
final class Fixtures {
    static final int LEAK_LINE = 37;
    static final int MAP_LEAK_LINE = 43;
    static final int INJECTED_LINE = 62;
    static final List<String> SEEN = new CopyOnWriteArrayList<>();

    private Fixtures() {
    }

    @DmaTest(maskBits = 28)
    static class Leaky {
        @Test
        void leaksABuffer(DmaDevice dma) {
            dma.allocCoherent(4096);
        }

        @Test
        void leaksABouncedMapping(DmaDevice dma) {
            byte[] heap = new byte[512];
            dma.map(heap, 0, heap.length, DmaDirection.TO_DEVICE);
        }

        @Test
        void freesEverything(DmaDevice dma, DmaPlatform platform) {
            try (DmaBuffer buffer = dma.allocCoherent(4096);
                    DmaMapping mapping = dma.map(ByteBuffer.allocateDirect(512), DmaDirection.FROM_DEVICE)) {
                assertTrue(buffer.dmaAddress() + buffer.size() - 1 <= (1L << 28) - 1, "28-bit mask honoured");
                assertTrue(mapping.size() == 512);
            }
            SEEN.add("clean on " + platform);
        }
    }

    @DmaTest
    static class Injected {
        @Test
        @InjectFaults(ops = InjectFaults.Op.ALLOC, every = 1, times = 1)
        void firstAllocationFails(DmaDevice dma) {
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> dma.allocCoherent(4096));
            SEEN.add(e.getMessage());
            try (DmaBuffer again = dma.allocCoherent(4096)) {
                assertEquals(4096, again.size(), "the second succeeds: times = 1");
            }
        }

        @Test
        @InjectFaults(ops = InjectFaults.Op.MAP, rate = 0.5, seed = 42)
        void seededMappingFailures(DmaDevice dma) {
            StringBuilder pattern = new StringBuilder();
            byte[] heap = new byte[64];
            for (int i = 0; i < 16; i++) {
                try (DmaMapping m = dma.map(heap, 0, heap.length, DmaDirection.TO_DEVICE)) {
                    pattern.append('.');
                } catch (io.dmadirect.DmaMappingException e) {
                    pattern.append('x');
                }
            }
            SEEN.add("pattern " + pattern);
        }
    }

    static class Shapes {
        @DmaShapes(maskBits = 32)
        void everyShape(DeviceUnderTest device, DmaDevice dma) {
            try (DmaBuffer buffer = dma.allocCoherent(8192)) {
                SEEN.add(device.description() + " -> " + buffer.path() + (device.platform().forcedUnencrypted() ? " unencrypted"
                        : "") + " at 0x" + Long.toHexString(buffer.dmaAddress()));
            }
        }
    }

    @DmaTest(device = "1234:11e8", where = DmaTest.Where.RIG)
    static class NeedsTheRig {
        @Test
        void edu(PciDevice pci) {
            SEEN.add("ran with " + pci);
        }
    }

    @DmaTest
    static class NeedsPciWithoutDevice {
        @Test
        void edu(PciDevice pci, DmaDevice dma) {
            SEEN.add("ran with " + pci);
        }
    }
}
