package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.pci.PciDevice;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: the edu device's registers.
 * Device: QEMU edu (1234:11e8), bound as the variant says.
 * Setup: the shared session; the driver enabled bus mastering and set a 28-bit mask.
 * Action: read the id, write liveness, compute a factorial.
 * Seen: id 0x010000ed, liveness inverted, 10! = 3628800, bus master bit set in PCI_COMMAND.
 */
class EduBasicsTest {

    @Test
    void registersAnswerAsTheSpecSays() {
        EduDriver edu = Rig.edu();
        assertEquals(0x010000ed, edu.id(), "edu id register");
        assertEquals(~0x12345678, edu.liveness(0x12345678), "liveness reads back inverted");
        assertEquals(3628800, edu.factorial(10), "10! by the device");
        PciDevice pci = edu.pci();
        assertEquals(0x1234, pci.vendorId());
        assertEquals(0x11e8, pci.deviceId());
        assertNotEquals(0, pci.readConfig16(PciDevice.PCI_COMMAND) & PciDevice.COMMAND_MASTER, "bus master on");
        assertEquals(28, edu.dma().dmaMask().bits(), "the driver set the edu's 28-bit mask");
        Rig.note("basics: id 0x" + Integer.toHexString(edu.id()) + ", BAR0 " + pci.bar(0) + ", 10! = "
                + edu.factorial(10));
    }
}
