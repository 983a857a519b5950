package io.dmadirect.streaming;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.Test;

/**
 * Whether a streaming mapping of a memory-encrypting platform bounces, decided as the kernel decides it.
 *
 * <p>{@code force_dma_unencrypted()} reads the coherent mask (x86: {@code min_not_zero(coherent_dma_mask,
 * bus_dma_limit)} against the C-bit) and decides where coherent memory comes from; the streaming path never
 * calls it. Under host SME, {@code dma_direct_map_phys()} takes {@code phys_to_dma()} (the C-bit set) and
 * {@code dma_capable()} checks it against the streaming mask: a streaming mask that carries the C-bit maps
 * private memory directly, one that does not bounces. In a confidential guest every mapping bounces because
 * x86's {@code pci_swiotlb_detect()} sets {@code SWIOTLB_FORCE} ({@code is_swiotlb_force_bounce()}).
 */
class StreamingUnencryptedTest {
    private static final long C_BIT = 1L << 47;
    private static final byte[] PATTERN = "device-visible bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static SimulatedPlatform sme() {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB).encryptionMask(C_BIT).build();
    }

    /** Private (encrypted) memory of another device, as a driver's data buffer would be. */
    private static DmaBuffer privateMemory(SimulatedPlatform platform) {
        DmaDevice owner = platform.attach(DeviceProperties.simple("owner"));
        owner.setMaskAndCoherent(DmaMask.BITS_64);
        DmaBuffer buffer = owner.allocCoherent(4096);
        assertEquals(C_BIT, buffer.dmaAddress() & C_BIT, "private memory, addressed with the C-bit");
        return buffer;
    }

    @Test
    void aWideStreamingMaskMapsPrivateMemoryDirectlyEvenWhenTheCoherentMaskIsNarrow() {
        try (SimulatedPlatform platform = sme()) {
            DmaBuffer data = privateMemory(platform);
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-mixed"));
            device.setDmaMask(DmaMask.BITS_64); // the coherent mask stays 32 bits
            assertTrue(device.forcedUnencrypted(), "force_dma_unencrypted(): the coherent mask cannot carry the C-bit");
            DmaMapping mapping = device.map(data.cpuView(), DmaDirection.FROM_DEVICE);
            assertFalse(mapping.isBounced(), "dma_capable() under the 64-bit streaming mask: direct");
            assertEquals(C_BIT, mapping.dmaAddress() & C_BIT, "phys_to_dma() sets the C-bit");
            assertTrue(platform.busMaster(device, 64).write(mapping.dmaAddress(), PATTERN));
            mapping.close();
            byte[] seen = new byte[PATTERN.length];
            data.cpuView().get(seen);
            assertArrayEquals(PATTERN, seen, "the encrypted access reaches the private memory as plaintext");
            data.close();
        }
    }

    @Test
    void aNarrowStreamingMaskBouncesEvenWhenTheCoherentMaskIsWide() {
        try (SimulatedPlatform platform = sme()) {
            DmaBuffer data = privateMemory(platform);
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-mixed"));
            device.setCoherentMask(DmaMask.BITS_64); // the streaming mask stays 32 bits
            assertFalse(device.forcedUnencrypted(), "force_dma_unencrypted(): the coherent mask carries the C-bit");
            DmaMapping mapping = device.map(data.cpuView(), DmaDirection.FROM_DEVICE);
            assertTrue(mapping.isBounced(), "dma_capable(): the C-bit lies beyond the 32-bit streaming mask");
            assertEquals(0, mapping.dmaAddress() & C_BIT, "swiotlb_map() gives the shared pool, unencrypted");
            assertTrue(platform.busMaster(device, 32).write(mapping.dmaAddress(), PATTERN));
            mapping.close();
            byte[] seen = new byte[PATTERN.length];
            data.cpuView().get(seen);
            assertArrayEquals(PATTERN, seen);
            data.close();
        }
    }

    @Test
    void aConfidentialGuestBouncesEveryMappingWhateverTheMasks() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB)
                .confidentialGuest(true).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("tdx"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer coherent = device.allocCoherent(4096);
            DmaMapping mapping = device.map(coherent.cpuView(), DmaDirection.TO_DEVICE);
            assertTrue(mapping.isBounced(), "is_swiotlb_force_bounce(): SWIOTLB_FORCE in a guest");
            mapping.close();
            coherent.close();
        }
    }
}
