package io.dmadirect.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PciAddressTest {

    @ParameterizedTest
    @CsvSource({"0000:03:00.0, 0000:03:00.0", "03:00.0, 0000:03:00.0", "0000:00:1f.3, 0000:00:1f.3",
            "ABCD:FF:1F.7, abcd:ff:1f.7", " 0000:00:04.0 , 0000:00:04.0"})
    void parsesAndFormats(String text, String expected) {
        assertEquals(expected, PciAddress.parse(text).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0000:03:00", "0000:03:00.8", "0000:03:20.0", "0000:3:00.0", "x000:03:00.0",
            "00000:03:00.0:1", "10000:00:00.0", "0000-03-00.0"})
    void rejectsMalformed(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PciAddress.parse(text));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("failed to parse PCI address")
                || e.getMessage().startsWith("not a PCI address"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void nullIsMalformed() {
        assertThrows(IllegalArgumentException.class, () -> PciAddress.parse(null));
    }
}
