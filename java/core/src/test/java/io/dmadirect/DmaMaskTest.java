package io.dmadirect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DmaMaskTest {

    @Test
    void bitMasksMatchTheKernelMacro() {
        assertEquals(0xff_ffffL, DmaMask.bits(24).value());
        assertEquals(0xfff_ffffL, DmaMask.bits(28).value());
        assertEquals(0xffff_ffffL, DmaMask.bits(32).value());
        assertEquals(-1L, DmaMask.bits(64).value());
        assertEquals(1L, DmaMask.bits(1).value());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void maskOutsideOneTo64BitsIsRejected(int bits) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DmaMask.bits(bits));
        assertTrue(e.getMessage().contains("1 to 64 bits"), e.getMessage());
    }

    @Test
    void ofValueAcceptsOnlyLowContiguousMasks() {
        assertEquals(DmaMask.bits(36), DmaMask.ofValue(0xf_ffff_ffffL));
        assertEquals(DmaMask.BITS_64, DmaMask.ofValue(-1L));
        assertThrows(IllegalArgumentException.class, () -> DmaMask.ofValue(0));
        assertThrows(IllegalArgumentException.class, () -> DmaMask.ofValue(0xf0));
        assertThrows(IllegalArgumentException.class, () -> DmaMask.ofValue(0x1000));
    }

    @Test
    void coversComparesUnsigned() {
        assertTrue(DmaMask.BITS_64.covers(0xffff_ffff_ffff_f000L));
        assertFalse(DmaMask.BITS_32.covers(0x1_0000_0000L));
        assertFalse(DmaMask.BITS_32.covers(-1L));
        assertTrue(DmaMask.BITS_32.covers(0xffff_ffffL));
    }
}
