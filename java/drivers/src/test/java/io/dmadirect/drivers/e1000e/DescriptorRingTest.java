package io.dmadirect.drivers.e1000e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.Sizes;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The ring's index arithmetic and the legacy descriptor layouts of the 82574L datasheet (7.1.4.1, 7.2.2.1). */
class DescriptorRingTest {
    private SimulatedPlatform platform;
    private DmaDevice dma;
    private DescriptorRing ring;

    @BeforeEach
    void setUp() {
        platform = SimulatedPlatform.builder().region(0, 16 * Sizes.MiB).build();
        dma = platform.attach(DeviceProperties.simple("ring-sim"));
        ring = new DescriptorRing(dma, 8);
    }

    @AfterEach
    void tearDown() {
        ring.close();
        platform.close();
    }

    @ParameterizedTest(name = "next({0}) = {1}, previous({0}) = {2}")
    @CsvSource({"0, 1, 7", "6, 7, 5", "7, 0, 6"})
    void indicesWrapAtTheRingSize(int i, int next, int previous) {
        assertEquals(next, ring.next(i));
        assertEquals(previous, ring.previous(i));
    }

    @ParameterizedTest(name = "clean {0}, tail {1}: {2} in flight, {3} free")
    @CsvSource({
        "0, 0, 0, 7",   // empty: one slot always stays unused
        "0, 7, 7, 0",   // full: tail one behind the clean index
        "5, 4, 7, 0",   // full across the wrap
        "6, 2, 4, 3",   // in flight across the wrap
        "3, 3, 0, 7"})
    void distanceAndFreeSlots(int clean, int tail, int inFlight, int free) {
        assertEquals(inFlight, ring.distance(clean, tail));
        assertEquals(free, ring.free(clean, tail));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 4, 12, 4104, -8})
    void sizesThatAreNotAMultipleOf128BytesAreRefused(int size) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DescriptorRing.checkSize(size));
        assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
    }

    @Test
    void aTransmitDescriptorCarriesAddressLengthAndEopIfcsRs() {
        ring.putTx(3, 0x1234_5678_9abcL, 1514);
        ByteBuffer d = ByteBuffer.wrap(ring.descriptor(3)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x1234_5678_9abcL, d.getLong(0));
        assertEquals(1514, d.getShort(8) & 0xffff);
        assertEquals(0, d.get(10)); // CSO
        assertEquals(0x01 | 0x02 | 0x08, d.get(11) & 0xff); // CMD: EOP, IFCS, RS; DEXT 0 = legacy
        assertEquals(0, d.getInt(12)); // STA, CSS, special
        assertFalse(ring.txDone(3));
        ByteBuffer view = ring.memory().cpuView();
        view.put(3 * 16 + 12, (byte) 1); // the device writes DD back
        assertTrue(ring.txDone(3));
    }

    @Test
    void aReceiveWriteBackIsReadOnlyOnceDdIsSet() {
        ring.putRx(5, 0xfeed_0000L);
        assertArrayEquals(new byte[] {0, 0, (byte) 0xed, (byte) 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ring.descriptor(5));
        assertEquals(0, ring.rxWriteBack(5));
        ByteBuffer view = ring.memory().cpuView().order(ByteOrder.LITTLE_ENDIAN);
        view.putShort(5 * 16 + 8, (short) 1514);
        assertEquals(0, ring.rxWriteBack(5), "no DD yet: the length is not the driver's to read");
        view.put(5 * 16 + 13, (byte) 0x20);
        view.put(5 * 16 + 12, (byte) 0x03); // DD | EOP
        int wb = ring.rxWriteBack(5);
        assertEquals(1514, DescriptorRing.rxLength(wb));
        assertEquals(0x03, DescriptorRing.rxStatus(wb));
        assertEquals(0x20, DescriptorRing.rxErrors(wb));
        ring.putRx(5, 0xfeed_0800L);
        assertEquals(0, ring.rxWriteBack(5), "refilling clears the status");
    }
}
