package io.dmadirect.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Addresses;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import io.dmadirect.Zone;
import io.dmadirect.spi.ZoneLayout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The predicates of direct.c, each row a case written from the kernel's code. */
class DmaDirectTest {
    private static final long SME_C_BIT = 1L << 47;

    private static DeviceDma device(int maskBits, long busLimit, List<DmaRange> ranges) {
        DmaMask mask = DmaMask.bits(maskBits);
        return new DeviceDma(mask, mask, busLimit, ranges, true, false, 0, false);
    }

    private static DeviceDma device(int maskBits) {
        return device(maskBits, 0, List.of());
    }

    @ParameterizedTest(name = "min_not_zero({0}, {1}) = {2}")
    @CsvSource({"0, 0, 0", "0, 5, 5", "5, 0, 5", "3, 5, 3", "-1, 7, 7", "-1, 0, -1", "-1, -2, -2"})
    void minNotZeroTreatsZeroAsNoLimitAndComparesUnsigned(long a, long b, long expected) {
        assertEquals(expected, DmaDirect.minNotZero(a, b));
    }

    /** dma_coherent_ok: dma_addr + size - 1 <= min_not_zero(coherent mask, bus limit). */
    @ParameterizedTest(name = "{0}-bit, bus limit {1}, phys {2}, size {3}: {4}")
    @CsvSource({
        // mask, bus limit, phys, size, ok
        "32, 0, 0xfffff000, 4096, true",
        "32, 0, 0xfffff000, 4097, false",
        "32, 0, 0x100000000, 1, false",
        "28, 0, 0x0ffff000, 4096, true",
        "28, 0, 0x10000000, 4096, false",
        "64, 0, 0xfffffffffffff000, 4096, true",
        "64, 0x3fffffff, 0x3ffff000, 4096, true",   // the bus limit, not the mask, decides
        "64, 0x3fffffff, 0x40000000, 4096, false",
        "24, 0x3fffffff, 0x00fff000, 4096, true",   // the mask is below the bus limit
        "24, 0x3fffffff, 0x01000000, 4096, false",
        "64, 0, 0xfffffffffffff000, 8192, false",  // wraps around the address space
    })
    void coherentOkFollowsMaskAndBusLimit(int bits, String busLimit, String phys, long size, boolean ok) {
        DeviceDma dev = device(bits, Long.decode(busLimit), List.of());
        assertEquals(ok, DmaDirect.coherentOk(dev, Long.parseUnsignedLong(phys.substring(2), 16), size));
    }

    @Test
    void coherentOkChecksTheDmaAddressAfterTheRangeOffset() {
        // CPU memory at 2 GiB appears to the device at 0: a 28-bit device reaches CPU 2 GiB..2 GiB+256 MiB.
        DeviceDma dev = device(28, 0, List.of(new DmaRange(0x8000_0000L, 0x0, 0x4000_0000L)));
        assertTrue(DmaDirect.coherentOk(dev, 0x8000_0000L, 4096));
        assertTrue(DmaDirect.coherentOk(dev, 0x8fff_f000L, 4096));
        assertFalse(DmaDirect.coherentOk(dev, 0x9000_0000L, 4096));
        // Outside every range the device cannot see the memory at all.
        assertFalse(DmaDirect.coherentOk(dev, 0x1000, 4096));
    }

    @Test
    void translationGoesBothWaysThroughTheRanges() {
        DeviceDma dev = device(32, 0, List.of(new DmaRange(0x8000_0000L, 0x0, 0x1000_0000L),
                new DmaRange(0x1_0000_0000L, 0x1000_0000L, 0x1000_0000L)));
        assertEquals(0x123L, DmaDirect.physToDmaUnencrypted(dev, 0x8000_0123L));
        assertEquals(0x1000_0010L, DmaDirect.physToDmaUnencrypted(dev, 0x1_0000_0010L));
        assertEquals(DmaDirect.DMA_MAPPING_ERROR, DmaDirect.physToDmaUnencrypted(dev, 0x7fff_ffffL));
        assertEquals(0x8000_0123L, DmaDirect.dmaToPhys(dev, 0x123L));
        assertEquals(0x1_0000_0010L, DmaDirect.dmaToPhys(dev, 0x1000_0010L));
        assertEquals(Addresses.NONE, DmaDirect.dmaToPhys(dev, 0x2000_0000L));
    }

    /** dma_direct_optimal_gfp_mask, with zone_dma_bits 24 and with it set to 30 (as arm64 may). */
    @ParameterizedTest(name = "{0}-bit mask, bus limit {1}, zone_dma_bits {2}: {3}")
    @CsvSource({
        "24, 0, 24, DMA",
        "28, 0, 24, DMA32",
        "30, 0, 24, DMA32",
        "32, 0, 24, DMA32",
        "36, 0, 24, NORMAL",
        "40, 0, 24, NORMAL",
        "64, 0, 24, NORMAL",
        "64, 0xffffff, 24, DMA",
        "64, 0xffffffff, 24, DMA32",
        "28, 0, 30, DMA",
        "30, 0, 30, DMA",
        "31, 0, 30, DMA32",
    })
    void optimalZoneIsTheZoneTheLimitFallsInto(int bits, String busLimit, int zoneDmaBits, Zone zone) {
        DeviceDma dev = device(bits, Long.decode(busLimit), List.of());
        assertEquals(zone, DmaDirect.optimalZone(dev, new ZoneLayout(zoneDmaBits)).zone());
    }

    @Test
    void optimalZoneTranslatesTheLimitToAPhysicalAddress() {
        // A 28-bit device behind an offset of 2 GiB reaches CPU memory up to 0x8fff_ffff: ZONE_DMA32.
        DeviceDma dev = device(28, 0, List.of(new DmaRange(0x8000_0000L, 0x0, 0x4000_0000L)));
        DmaDirect.ZoneChoice choice = DmaDirect.optimalZone(dev, ZoneLayout.DEFAULT);
        assertEquals(Zone.DMA32, choice.zone());
        assertEquals(0x8fff_ffffL, choice.physLimit());
        // A limit outside every range gives the kernel's (phys_addr_t)-1: try ZONE_NORMAL and let coherent_ok decide.
        DeviceDma beyond = device(32, 0, List.of(new DmaRange(0x8000_0000L, 0x0, 0x1000_0000L)));
        assertEquals(Zone.NORMAL, DmaDirect.optimalZone(beyond, ZoneLayout.DEFAULT).zone());
    }

    /** The retry order after the "again:" label of __dma_direct_alloc_pages. */
    @Test
    void fallbackOrderIsDma32ThenDma() {
        assertEquals(Zone.DMA32, DirectPages.nextZone(Zone.NORMAL, 0xf_ffff_ffffL));
        assertEquals(Zone.DMA, DirectPages.nextZone(Zone.NORMAL, -1L)); // a 64-bit device skips DMA32
        assertEquals(Zone.DMA, DirectPages.nextZone(Zone.DMA32, 0xfff_ffffL));
        assertNull(DirectPages.nextZone(Zone.DMA, 0xff_ffffL));
    }

    /** dma_direct_get_required_mask: (1 << (fls64(max_dma) - 1)) * 2 - 1. */
    @ParameterizedTest(name = "highest RAM {0}: {1} bits")
    @CsvSource({"0xfffff, 20", "0x7fffffff, 31", "0xffffffff, 32", "0x100000000, 33", "0x23fffffff, 34",
        "0xffffffffff, 40", "0x7fffffffffffffff, 63"})
    void requiredMaskCoversTheHighestAddress(String maxPhys, int bits) {
        assertEquals(DmaMask.bits(bits), DmaDirect.requiredMask(device(64), Long.decode(maxPhys)));
    }

    @Test
    void requiredMaskUsesTheDeviceView() {
        // With an SME C-bit the device must carry bit 47 to reach encrypted memory.
        DeviceDma sme = new DeviceDma(DmaMask.BITS_64, DmaMask.BITS_64, 0, List.of(), true, false, SME_C_BIT, false);
        assertEquals(DmaMask.bits(48), DmaDirect.requiredMask(sme, 0x3_ffff_ffffL));
        // Behind a range that moves memory down, a smaller mask suffices.
        DeviceDma moved = device(64, 0, List.of(new DmaRange(0x1_0000_0000L, 0x0, 0x1000_0000L)));
        assertEquals(DmaMask.bits(28), DmaDirect.requiredMask(moved, 0x1_0fff_ffffL));
    }

    /** force_dma_unencrypted on x86: every device of a confidential guest; under SME a device below the C-bit. */
    @Test
    void forceUnencryptedFollowsX86Rules() {
        DeviceDma plain = device(32);
        assertFalse(DmaDirect.forceUnencrypted(plain));
        DeviceDma guest = new DeviceDma(DmaMask.BITS_64, DmaMask.BITS_64, 0, List.of(), true, false, 0, true);
        assertTrue(DmaDirect.forceUnencrypted(guest));
        DeviceDma sme32 = new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, 0, List.of(), true, false, SME_C_BIT, false);
        assertTrue(DmaDirect.forceUnencrypted(sme32));
        DeviceDma sme47 = sme32.withCoherentMask(DmaMask.bits(47));
        assertTrue(DmaDirect.forceUnencrypted(sme47), "DMA_BIT_MASK(__ffs64(sme_me_mask)) is 47 bits: <= forces");
        DeviceDma sme48 = sme32.withCoherentMask(DmaMask.bits(48));
        assertFalse(DmaDirect.forceUnencrypted(sme48));
        DeviceDma sme64BusLimited = new DeviceDma(DmaMask.BITS_64, DmaMask.BITS_64, 0xffff_ffffL, List.of(), true, false,
                SME_C_BIT, false);
        assertTrue(DmaDirect.forceUnencrypted(sme64BusLimited));
    }

    /** phys_to_dma_direct: the C-bit appears only for devices that are not forced unencrypted. */
    @Test
    void physToDmaDirectAddsTheEncryptionBitOnlyWhereAllowed() {
        DeviceDma sme64 = new DeviceDma(DmaMask.BITS_64, DmaMask.BITS_64, 0, List.of(), true, false, SME_C_BIT, false);
        assertEquals(0x1000L | SME_C_BIT, DmaDirect.physToDmaDirect(sme64, 0x1000));
        DeviceDma sme32 = sme64.withCoherentMask(DmaMask.BITS_32);
        assertEquals(0x1000L, DmaDirect.physToDmaDirect(sme32, 0x1000));
        assertEquals(0x1000L, DmaDirect.dmaToPhys(sme64, 0x1000L | SME_C_BIT));
    }

    /** dma_direct_supported, against the lowest memory the device reaches. */
    @ParameterizedTest(name = "{0}-bit mask, lowest memory ends at {1}: {2}")
    @CsvSource({"24, 0x1fffff, true", "24, 0x1000001f, false", "28, 0xfffffff, true", "32, 0x1001fffff, false",
        "36, 0x1001fffff, true", "64, 0x7fffffffffff, true"})
    void supportedWhenTheLowestMemoryIsWithinTheMask(int bits, String lowestEnd, boolean supported) {
        assertEquals(supported, DmaDirect.supported(DmaMask.bits(bits), Long.decode(lowestEnd)));
    }

    @Test
    void supportedIgnoresTheEncryptionBit() {
        DeviceDma sme = new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, 0, List.of(), true, false, SME_C_BIT, false);
        assertTrue(DmaDirect.supported(DmaMask.BITS_32, DmaDirect.lowestReachableEnd(sme, 0, 2 << 20, 2 << 20)));
    }

    /** The pool condition of dma_direct_alloc: remap or decrypt, and the caller cannot block. */
    @ParameterizedTest(name = "coherent {0}, guest {1}, restricted {2}, may block {3}: pool {4}")
    @CsvSource({
        "true, false, false, false, false",
        "false, false, false, false, true",
        "false, false, false, true, false",
        "true, true, false, false, true",
        "true, true, false, true, false",
        "false, false, true, false, false",
    })
    void atomicPoolOnlyForRemapOrDecryptWithoutBlocking(boolean coherent, boolean guest, boolean restricted,
            boolean mayBlock, boolean pool) {
        DeviceDma dev = new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, 0, List.of(), coherent, restricted, 0, guest);
        assertEquals(pool, DmaDirect.allocFromPool(dev, mayBlock));
    }

    @Test
    void noKernelMappingBranchOnlyWithoutDecryptionOrRestriction() {
        DeviceDma dev = device(32);
        assertTrue(DmaDirect.allocNoMapping(dev, true));
        assertFalse(DmaDirect.allocNoMapping(dev, false));
        DeviceDma guest = new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, 0, List.of(), true, false, 0, true);
        assertFalse(DmaDirect.allocNoMapping(guest, true));
        DeviceDma restricted = new DeviceDma(DmaMask.BITS_32, DmaMask.BITS_32, 0, List.of(), true, true, 0, false);
        assertFalse(DmaDirect.allocNoMapping(restricted, true));
    }

    @Test
    void pageAlignRejectsNonPositiveAndOverflowingSizes() {
        assertEquals(4096, DmaDirect.pageAlign(1, 4096));
        assertEquals(8192, DmaDirect.pageAlign(4097, 4096));
        assertThrows(IllegalArgumentException.class, () -> DmaDirect.pageAlign(0, 4096));
        assertThrows(IllegalArgumentException.class, () -> DmaDirect.pageAlign(-5, 4096));
        assertThrows(IllegalArgumentException.class, () -> DmaDirect.pageAlign(Long.MAX_VALUE, 4096));
        assertThrows(IllegalArgumentException.class, () -> DmaDirect.pageAlign(Long.MAX_VALUE - 4000, 4096));
    }
}
