package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, finding 8: memory the platform made shared (the atomic pools, a forced device's decrypted
 * buffer) gets a DMA address without the C-bit for every device, as {@code phys_to_dma_unencrypted()}
 * gives for swiotlb's shared pool. With the bit, an SME device reads the memory's ciphertext.
 */
class DecryptedMemoryDmaAddressTest {
    private static final long C_BIT = 1L << 47;
    private static final byte[] PATTERN = "shared memory, plain bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static SimulatedPlatform sme() {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB).encryptionMask(C_BIT).build();
    }

    /** A non-coherent 64-bit device: not forced unencrypted, but an atomic allocation must come from the pool. */
    private static DmaDevice nonCoherent64(SimulatedPlatform platform) {
        DmaDevice device = platform.attach(DeviceProperties.simple("noncoherent-64").withCoherent(false));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        assertFalse(device.forcedUnencrypted(), "bit 47 fits a 64-bit mask");
        return device;
    }

    @Test
    void atomicPoolMemoryIsAddressedUnencryptedAndTheDeviceReadsPlainBytes() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = nonCoherent64(platform);
            SimulatedBusMaster engine = platform.busMaster(device, 64);
            DmaBuffer buffer = device.allocCoherent(4096, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, buffer.path());
            assertTrue(platform.encryption().isShared(buffer.dmaAddress() & ~C_BIT), "the pool was made shared");
            assertEquals(0, buffer.dmaAddress() & C_BIT, "shared memory's DMA address has no C-bit");
            buffer.cpuView().put(PATTERN);
            assertArrayEquals(PATTERN, engine.read(buffer.dmaAddress(), PATTERN.length), "the device reads plain bytes");
            buffer.close();
        }
    }

    @Test
    void aDirectMappingOfPoolMemoryIsAddressedUnencrypted() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = nonCoherent64(platform);
            SimulatedBusMaster engine = platform.busMaster(device, 64);
            DmaBuffer buffer = device.allocCoherent(8192, DmaAttr.ATOMIC);
            ByteBuffer view = buffer.cpuView().slice(100, PATTERN.length);
            view.duplicate().put(PATTERN);
            DmaMapping mapping = device.map(view, DmaDirection.TO_DEVICE);
            assertFalse(mapping.isBounced(), "pinned memory within the mask maps directly");
            assertEquals(0, mapping.dmaAddress() & C_BIT);
            assertArrayEquals(PATTERN, engine.read(mapping.dmaAddress(), PATTERN.length));
            mapping.close();
            buffer.close();
        }
    }

    @Test
    void aDirectMappingOfAnotherDevicesDecryptedBufferIsAddressedUnencrypted() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice forced = platform.attach(DeviceProperties.simple("sme-32"));
            assertTrue(forced.forcedUnencrypted());
            DmaBuffer shared = forced.allocCoherent(4096);
            DmaDevice wide = platform.attach(DeviceProperties.simple("wide"));
            wide.setMaskAndCoherent(DmaMask.BITS_64);
            ByteBuffer view = shared.cpuView().slice(0, PATTERN.length);
            view.duplicate().put(PATTERN);
            DmaMapping mapping = wide.map(view, DmaDirection.TO_DEVICE);
            assertEquals(0, mapping.dmaAddress() & C_BIT);
            assertArrayEquals(PATTERN, platform.busMaster(wide, 64).read(mapping.dmaAddress(), PATTERN.length));
            mapping.close();
            shared.close();
        }
    }

    @Test
    void privateMemoryKeepsTheCBit() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice wide = platform.attach(DeviceProperties.simple("wide"));
            wide.setMaskAndCoherent(DmaMask.BITS_64);
            DmaBuffer buffer = wide.allocCoherent(4096);
            assertEquals(C_BIT, buffer.dmaAddress() & C_BIT);
            DmaMapping mapping = wide.map(buffer.cpuView(), DmaDirection.TO_DEVICE);
            assertEquals(C_BIT, mapping.dmaAddress() & C_BIT);
            buffer.cpuView().put(PATTERN);
            mapping.syncForDevice();
            assertArrayEquals(PATTERN, platform.busMaster(wide, 64).read(mapping.dmaAddress(), PATTERN.length));
            mapping.close();
            buffer.close();
        }
    }
}
