package io.dmadirect.direct;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.CloseRaces;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaRange;
import io.dmadirect.DmaUsageException;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.host.PciPlatforms;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.sim.SimulatedPlatform;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code dma_map_resource()} over dma-direct, from {@code dma_direct_map_phys()}'s {@code DMA_ATTR_MMIO} path
 * (mainline since the map_phys rework): {@code dma_addr = phys} with no {@code phys_to_dma()} (so neither the
 * dma-ranges offset nor the SME bit), {@code dma_capable(dev, dma_addr, size, false)} against
 * {@code min_not_zero(*dma_mask, bus_dma_limit)}, refused under {@code is_swiotlb_force_bounce()}, and
 * {@code dma_unmap_resource()} with nothing to undo.
 */
class MapResourceTest {
    private static final long BAR = 0xfe00_0000L;

    private static SimulatedPlatform platform() {
        // Memory below 4 GiB and above it, so that a device whose dma-ranges cover only the upper part has memory.
        return SimulatedPlatform.builder().region(0, 64 * MiB).region(4 * GiB, 64 * MiB).build();
    }

    /** One row: the device's mask, bus limit and dma-ranges; the MMIO; the DMA address, or -1 for refused. */
    static Stream<Arguments> rows() {
        List<DmaRange> highMemoryAtZero = List.of(new DmaRange(4 * GiB, 0, GiB));
        List<DmaRange> lowMemoryShifted = List.of(new DmaRange(0, 0x8000_0000L, GiB));
        return Stream.of(
                // dma = phys: the address the device is given is the physical address itself.
                Arguments.of("32-bit mask, BAR below 4 GiB", 32, 0L, List.of(), BAR, 0x1000L, BAR),
                Arguments.of("last byte exactly at the mask", 32, 0L, List.of(), 0xffff_f000L, 0x1000L, 0xffff_f000L),
                Arguments.of("one byte past the mask", 32, 0L, List.of(), 0xffff_f000L, 0x1001L, -1L),
                Arguments.of("BAR above 4 GiB, 32-bit mask", 32, 0L, List.of(), 0x8_0000_0000L, 0x1000L, -1L),
                Arguments.of("BAR above 4 GiB, 64-bit mask", 64, 0L, List.of(), 0x8_0000_0000L, 0x1000L, 0x8_0000_0000L),
                Arguments.of("28-bit mask (edu), BAR at 0xfe000000", 28, 0L, List.of(), BAR, 0x1000L, -1L),
                // The bus limit narrows a wide mask (min_not_zero).
                Arguments.of("bus limit 1 GiB, BAR below it", 64, GiB - 1, List.of(), GiB - 0x1000, 0x1000L, GiB - 0x1000),
                Arguments.of("bus limit 1 GiB, BAR above it", 64, GiB - 1, List.of(), BAR, 0x1000L, -1L),
                Arguments.of("bus limit wider than the mask: the mask decides", 32, 0xff_ffff_ffffL, List.of(),
                        0x1_0000_0000L, 0x1000L, -1L),
                // dma-ranges are NOT applied to MMIO: phys_to_dma() would put this at 0x1000, within 32 bits.
                Arguments.of("dma-ranges would move it below the mask, not applied", 32, 0L, highMemoryAtZero,
                        4 * GiB + 0x1000, 0x1000L, -1L),
                // ... and this one to 0x8000_1000; MMIO keeps its physical address.
                Arguments.of("dma-ranges would shift it, not applied", 64, 0L, lowMemoryShifted, 0x1000L, 0x1000L, 0x1000L));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void theDmaAddressIsThePhysicalAddressWhenTheDeviceReachesIt(String row, int maskBits, long busLimit,
            List<DmaRange> ranges, long phys, long size, long expected) {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev").withBusDmaLimit(busLimit)
                    .withDmaRanges(ranges));
            device.setDmaMask(DmaMask.bits(maskBits));
            if (expected == -1) {
                DmaMappingException e = assertThrows(DmaMappingException.class,
                        () -> device.mapResource(phys, size, DmaDirection.BIDIRECTIONAL));
                assertTrue(e.getMessage().contains("dma_capable") && e.getMessage().contains("dev"), e.getMessage());
            } else {
                assertEquals(expected, device.mapResource(phys, size, DmaDirection.BIDIRECTIONAL), row);
                device.unmapResource(expected, size, DmaDirection.BIDIRECTIONAL);
            }
        }
    }

    @Test
    void theEncryptionBitIsNotAddedToMmio() {
        long cBit = 1L << 47;
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).encryptionMask(cBit).build()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("sme"));
            device.setDmaMask(DmaMask.BITS_64);
            assertEquals(BAR, device.mapResource(BAR, 0x1000, DmaDirection.TO_DEVICE), "no __sme_set() for MMIO");
        }
    }

    @Test
    void everyMappingBouncingRefusesMmio() {
        try (SimulatedPlatform forced = SimulatedPlatform.builder().region(0, 64 * MiB).forceBounce(true).build();
                SimulatedPlatform guest = SimulatedPlatform.builder().region(0, 64 * MiB).confidentialGuest(true).build()) {
            for (DmaPlatform platform : List.<DmaPlatform>of(forced, guest)) {
                DmaDevice device = platform.attach(DeviceProperties.simple("bouncing"));
                DmaMappingException e = assertThrows(DmaMappingException.class,
                        () -> device.mapResource(BAR, 0x1000, DmaDirection.FROM_DEVICE));
                assertTrue(e.getMessage().contains("bounce"), e.getMessage());
            }
        }
    }

    @Test
    void iovaModeRefusesAPhysicalAddressAndSaysWhatToUse() {
        SimulatedMemory memory = new SimulatedMemory(2 * MiB, List.of(new long[] {64L << 30, 64 * MiB}), 65L << 30);
        try (DmaPlatform platform = PciPlatforms.iova("iova-sim", memory, SimulatedIommu.likeIntelIommu(), null,
                PciPlatforms.defaults().withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER))) {
            DmaDevice device = platform.attach(DeviceProperties.simple("behind-iommu"));
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> device.mapResource(BAR, 0x1000, DmaDirection.BIDIRECTIONAL));
            assertTrue(e.getMessage().contains("IOVA mode") && e.getMessage().contains("mapPeerBar"), e.getMessage());
        }
    }

    @Test
    void badInputIsRefusedWithTheReason() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev"));
            device.setDmaMask(DmaMask.BITS_64);
            assertThrows(IllegalArgumentException.class, () -> device.mapResource(BAR, 0, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> device.mapResource(BAR, -1, DmaDirection.TO_DEVICE));
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> device.mapResource(BAR, 0x1000, DmaDirection.NONE));
            assertTrue(none.getMessage().contains("DMA_NONE"), none.getMessage());
            assertThrows(IllegalArgumentException.class, () -> device.mapResource(BAR, 0x1000, null));
            IllegalArgumentException wraps = assertThrows(IllegalArgumentException.class,
                    () -> device.mapResource(-0x1000L, 0x2000, DmaDirection.TO_DEVICE));
            assertTrue(wraps.getMessage().contains("wraps"), wraps.getMessage());
            assertThrows(IllegalArgumentException.class, () -> device.unmapResource(BAR, 0, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> device.unmapResource(BAR, 0x1000, DmaDirection.NONE));
        }
    }

    @Test
    void afterCloseBothCallsAreRefusedButBadInputIsStillNamed() {
        try (SimulatedPlatform platform = platform()) {
            DmaDevice device = platform.attach(DeviceProperties.simple("dev"));
            long dma = device.mapResource(BAR, 0x1000, DmaDirection.TO_DEVICE);
            device.close();
            assertThrows(DmaUsageException.class, () -> device.mapResource(BAR, 0x1000, DmaDirection.TO_DEVICE));
            assertThrows(DmaUsageException.class, () -> device.unmapResource(dma, 0x1000, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> device.mapResource(BAR, 0x1000, DmaDirection.NONE));
        }
    }

    @Test
    void threadsRacingCloseGetAnAddressOrAClearRefusal() throws Exception {
        for (int round = 0; round < 10; round++) {
            try (SimulatedPlatform platform = platform()) {
                DmaDevice device = platform.attach(DeviceProperties.simple("racing"));
                CloseRaces.race(4, t -> {
                    for (int i = 0; i < 2_000; i++) {
                        long dma = device.mapResource(BAR, 0x1000, DmaDirection.BIDIRECTIONAL);
                        if (dma != BAR) {
                            throw new AssertionError("wrong address " + Long.toHexString(dma));
                        }
                        device.unmapResource(dma, 0x1000, DmaDirection.BIDIRECTIONAL);
                    }
                }, device::close);
            }
        }
    }
}
