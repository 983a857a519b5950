package io.dmadirect.direct;

import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Buffers and mappings hash by DMA address and compare by identity (see {@link AddressHash}). */
class AddressHashTest {

    @Test
    void theSameMemoryMappedTwiceGivesTwoMappingsThatShareAHashButAreNotEqual() {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("hash"));
            DmaBuffer coherent = device.allocCoherent(4096);
            ByteBuffer memory = coherent.cpuView();
            DmaMapping first = device.map(memory, DmaDirection.TO_DEVICE);
            DmaMapping second = device.map(memory, DmaDirection.TO_DEVICE);
            assertEquals(first.dmaAddress(), second.dmaAddress(), "pinned memory maps directly, to one address");
            assertEquals(first.hashCode(), second.hashCode());
            assertNotEquals(first, second, "two mappings are two entries, as dma-debug keeps two");
            Set<Object> live = new HashSet<>(Set.of(first, second, coherent));
            assertEquals(3, live.size());
            first.close();
            assertTrue(live.remove(first) && live.contains(second) && live.contains(coherent));
            second.close();
            coherent.close();
        }
    }

    @Test
    void pageAlignedAddressesSpreadOverTheLowBitsATableIndexes() {
        Set<Integer> buckets = new HashSet<>();
        for (long page = 0; page < 4096; page++) {
            buckets.add(AddressHash.of(0x1_0000_0000L + page * 4096) & 4095);
        }
        // 4096 keys into 4096 buckets at random fill about 63% of them; the identity (addr >>> 0) fills 1.
        assertTrue(buckets.size() > 2400, buckets.size() + " of 4096 buckets used");
    }
}
