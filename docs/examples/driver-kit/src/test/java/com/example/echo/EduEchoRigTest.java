package com.example.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaDevice;
import io.dmadirect.junit.DeviceUnderTest;
import io.dmadirect.junit.DmaTest;
import io.dmadirect.pci.PciDevice;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The echo driver on the rig's real edu, booted with a 24-bit DMA mask
 * ({@code dmadirect rig --device 'edu,dma_mask=0xffffff'}): data comes back intact only from memory the
 * mask reaches.
 */
@Tag("rig")
@DmaTest(device = "edu", maskBits = 24, where = DmaTest.Where.RIG)
class EduEchoRigTest {

    @Test
    void echoesThroughTheRealEdu(DeviceUnderTest device, DmaDevice dma, PciDevice pci) {
        System.out.println("edu: " + device.description() + ", edu mask in the guest: "
                + System.getenv("DMADIRECT_RIG_EDU_DMA_MASK"));
        EchoDriver driver = new EchoDriver(dma, new EduEngine(pci));
        for (int round = 0; round < 4; round++) {
            byte[] data = new byte[EduEngine.MAX_LENGTH];
            new Random(round).nextBytes(data);
            assertArrayEquals(data, driver.roundTrip(data), "round " + round);
        }
        assertTrue(driver.fallbacks() == 0, "coherent memory below 16 MiB was found");
    }
}
