package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.AllocationPath;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.MemoryStats;
import io.dmadirect.sim.SimulatedBusMaster;
import io.dmadirect.sim.SimulatedPlatform;
import org.junit.jupiter.api.Test;

/**
 * Forced-unencrypted DMA: {@code dma_set_decrypted()} on allocation, {@code dma_set_encrypted()} on free,
 * the leak on failure, and what a device really reads, under AMD SME's C-bit and in a confidential guest.
 */
class EncryptionTest {
    private static final long C_BIT = 1L << 47;
    private static final byte[] PATTERN = "device-visible bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static SimulatedPlatform sme() {
        return SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB).encryptionMask(C_BIT).build();
    }

    @Test
    void smeDeviceBelowTheCBitGetsSharedMemoryWithoutTheBit() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-32"));
            assertTrue(device.forcedUnencrypted(), "a 32-bit mask cannot carry bit 47");
            DmaBuffer buffer = device.allocCoherent(4096);
            assertEquals(0, buffer.dmaAddress() & C_BIT);
            long phys = buffer.dmaAddress();
            assertTrue(platform.encryption().isShared(phys), "dma_set_decrypted made it shared");
            SimulatedBusMaster engine = platform.busMaster(device, 32);
            assertTrue(engine.write(buffer.dmaAddress(), PATTERN));
            byte[] seen = new byte[PATTERN.length];
            buffer.cpuView().get(seen);
            assertArrayEquals(PATTERN, seen);
            buffer.close();
            assertFalse(platform.encryption().isShared(phys), "dma_set_encrypted made it private again");
        }
    }

    @Test
    void smeDeviceAboveTheCBitUsesEncryptedMemoryWithTheBit() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-64"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            assertFalse(device.forcedUnencrypted());
            DmaBuffer buffer = device.allocCoherent(4096);
            assertEquals(C_BIT, buffer.dmaAddress() & C_BIT, "__sme_set() adds the C-bit");
            assertFalse(platform.encryption().isShared(buffer.dmaAddress() & ~C_BIT));
            SimulatedBusMaster engine = platform.busMaster(device, 64);
            assertTrue(engine.write(buffer.dmaAddress(), PATTERN));
            byte[] seen = new byte[PATTERN.length];
            buffer.cpuView().get(seen);
            assertArrayEquals(PATTERN, seen, "an encrypted access to private memory is transparent");
            // Without the C-bit the device would have written ciphertext: the policy is what makes it right.
            assertTrue(engine.write(buffer.dmaAddress() & ~C_BIT, PATTERN));
            buffer.cpuView().get(seen);
            assertFalse(java.util.Arrays.equals(PATTERN, seen), "the wrong encryption state scrambles the data");
            buffer.close();
        }
    }

    @Test
    void confidentialGuestForcesEveryDeviceUnencrypted() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 16 * MiB).region(GiB, 32 * MiB)
                .confidentialGuest(true).build()) {
            assertTrue(platform.forcedUnencrypted());
            DmaDevice device = platform.attach(DeviceProperties.simple("tdx-nic"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            assertTrue(device.forcedUnencrypted());
            DmaBuffer buffer = device.allocCoherent(8192);
            assertTrue(platform.encryption().isShared(buffer.dmaAddress()));
            SimulatedBusMaster engine = platform.busMaster(device, 64);
            assertTrue(engine.write(buffer.dmaAddress(), PATTERN));
            byte[] seen = new byte[PATTERN.length];
            buffer.cpuView().get(seen);
            assertArrayEquals(PATTERN, seen);
            buffer.close();
            long bouncePool = platform.direct().swiotlb().stats().totalSlots() * io.dmadirect.swiotlb.Swiotlb.SLOT_SIZE;
            assertEquals(0, platform.encryption().sharedBytes() - platform.direct().atomicPools().poolBytes(
                    io.dmadirect.Zone.DMA)[0] - platform.direct().atomicPools().poolBytes(io.dmadirect.Zone.DMA32)[0]
                    - bouncePool, "only the atomic pools and the bounce pool stay shared");
        }
    }

    @Test
    void failedDecryptionLeaksThePagesAndSaysSo() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-fail"));
            platform.drainThreadCaches();
            MemoryStats before = platform.memoryStats();
            platform.encryption().failNextDecrypts(1);
            DmaAllocationException e = assertThrows(DmaAllocationException.class, () -> device.allocCoherent(4096));
            assertTrue(e.getMessage().contains("leaked on purpose"), e.getMessage());
            assertEquals(4096, platform.leakedBytes());
            platform.drainThreadCaches();
            assertEquals(before.available() - 4096, platform.memoryStats().available(),
                    "the leaked page is never handed out again");
            DmaBuffer next = device.allocCoherent(4096);
            assertNotEquals(0, next.size());
            next.close();
        }
    }

    @Test
    void failedReEncryptionOnFreeLeaksThePages() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-free-fail"));
            DmaBuffer buffer = device.allocCoherent(3 * 4096);
            platform.drainThreadCaches();
            MemoryStats allocated = platform.memoryStats();
            platform.encryption().failNextEncrypts(1);
            buffer.close();
            assertTrue(buffer.isFreed());
            assertEquals(buffer.allocatedSize(), platform.leakedBytes());
            platform.drainThreadCaches();
            assertEquals(allocated, platform.memoryStats(), "the pages stay out of the allocator");
            assertTrue(device.findBuffer(buffer.dmaAddress()).isEmpty());
        }
    }

    @Test
    void atomicAllocationOfAForcedUnencryptedDeviceComesFromThePreDecryptedPool() {
        try (SimulatedPlatform platform = sme()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme-atomic"));
            DmaBuffer buffer = device.allocCoherent(4096, DmaAttr.ATOMIC);
            assertEquals(AllocationPath.ATOMIC_POOL, buffer.path());
            assertTrue(platform.encryption().isShared(buffer.dmaAddress()), "pool memory was decrypted at expansion");
            assertEquals(0, buffer.dmaAddress() & C_BIT);
            buffer.close();
        }
    }
}
