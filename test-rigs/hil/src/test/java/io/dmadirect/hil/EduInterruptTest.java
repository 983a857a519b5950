package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.pci.Interrupt;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: interrupts.
 * Device: edu; MSI on vfio-pci, INTx on uio_pci_generic.
 * Setup: the driver enabled the interrupt (eventfd for VFIO, /dev/uioN for UIO).
 * Action: raise an interrupt through the edu's raise register and wait; then a DMA with "raise IRQ".
 * Seen: the wait returns a count within the timeout; the DMA completion was signalled by the interrupt.
 */
class EduInterruptTest {
    private static final int EDU_IRQ_STATUS = 0x24;
    private static final int EDU_IRQ_RAISE = 0x60;
    private static final int EDU_IRQ_ACK = 0x64;

    @Test
    void anInterruptArrivesThroughItsDescriptor() {
        EduDriver edu = Rig.edu();
        Interrupt irq = edu.interrupt();
        assertNotNull(irq, "the edu driver found no interrupt");
        edu.pci().bar(0).write32(EDU_IRQ_RAISE, 0x42);
        long count = irq.await(Duration.ofSeconds(20));
        int status = edu.pci().bar(0).read32(EDU_IRQ_STATUS);
        edu.pci().bar(0).write32(EDU_IRQ_ACK, status);
        irq.rearm();
        assertTrue(count > 0, "no " + irq.kind() + " interrupt within 20 s");
        assertEquals(0x42, status & 0x42, "the status holds what was raised");
        long before = edu.interruptsSeen();
        try (DmaBuffer b = edu.dma().allocCoherent(64)) {
            edu.toDevice(b.dmaAddress(), 0, 64);
        }
        assertEquals(before + 1, edu.interruptsSeen(), "the DMA completion came by interrupt, not by polling");
        Rig.note("interrupt: " + irq.kind() + " vector " + irq.vector() + " received (count " + count
                + ", status 0x" + Integer.toHexString(status) + "); DMA-done interrupts so far " + edu.interruptsSeen()
                + ", polled completions " + edu.polledCompletions());
    }
}
