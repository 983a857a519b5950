package com.example.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.DmaDevice;
import io.dmadirect.junit.DeviceUnderTest;
import io.dmadirect.junit.DmaShapes;
import io.dmadirect.junit.DmaTest;
import io.dmadirect.junit.InjectFaults;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The echo driver on the simulated platform: a 24-bit edu, every hostile machine, and its error path. */
@DmaTest(maskBits = 24, where = DmaTest.Where.SIMULATED)
class EchoDriverTest {
    private static byte[] pattern(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    @Test
    void echoesThroughA24BitDevice(DeviceUnderTest device, DmaDevice dma) {
        EchoDriver driver = new EchoDriver(dma, new SimulatedEdu(device, dma, 24));
        byte[] data = pattern(4096, 1);
        assertArrayEquals(data, driver.roundTrip(data));
        assertEquals(0, driver.fallbacks());
    }

    @DmaShapes(maskBits = 32)
    void echoesOnEveryHostileMachine(DeviceUnderTest device, DmaDevice dma) {
        EchoDriver driver = new EchoDriver(dma, new SimulatedEdu(device, dma, 32));
        byte[] data = pattern(2048, 2);
        assertArrayEquals(data, driver.roundTrip(data), device.description());
    }

    /**
     * The fallback bounces, and the simulated machine's bounce pool lies above 16 MiB (as the kernel's swiotlb
     * may): a 24-bit device could not use it, so this test's device has 28 bits, as the edu out of the box.
     */
    @Test
    @DmaTest(maskBits = 28, where = DmaTest.Where.SIMULATED)
    @InjectFaults(ops = InjectFaults.Op.ALLOC, every = 1, times = 1)
    void recoversWhenCoherentMemoryRunsOut(DeviceUnderTest device, DmaDevice dma) {
        EchoDriver driver = new EchoDriver(dma, new SimulatedEdu(device, dma, 28));
        byte[] first = pattern(1024, 3);
        // The injected failure hits the coherent allocation: the driver carries the transfer on the bounce pool.
        assertArrayEquals(first, driver.roundTrip(first));
        assertEquals(1, driver.fallbacks(), "the error path ran");
        // The fault was transient (times = 1): the next round trip is coherent again.
        byte[] second = pattern(1024, 4);
        assertArrayEquals(second, driver.roundTrip(second));
        assertEquals(1, driver.fallbacks(), "recovered: no further fallback");
        // No leak on the error path either: the extension fails the test otherwise.
    }
}
