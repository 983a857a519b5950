package com.example.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.DmaDevice;
import io.dmadirect.drivers.nvme.NvmeController;
import io.dmadirect.drivers.nvme.NvmeNamespace;
import io.dmadirect.drivers.nvme.NvmeQueuePair;
import io.dmadirect.junit.DeviceUnderTest;
import io.dmadirect.junit.DmaTest;
import io.dmadirect.pci.PciDevice;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A block round trip on an NVMe controller the rig was booted with
 * ({@code dmadirect rig --device 'nvme,mdts=3,namespaces=2'}): every namespace, data byte-identical, and the
 * controller's MDTS as booted. The controller is closed by the test, so the extension sees nothing leaked.
 */
@Tag("rig")
@DmaTest(device = "nvme", where = DmaTest.Where.RIG, maskBits = 64)
class NvmeRigTest {

    @Test
    void writesAndReadsEveryNamespace(DeviceUnderTest device, DmaDevice dma, PciDevice pci) {
        System.out.println("nvme: " + device.description());
        try (NvmeController nvme = NvmeController.attach(pci, dma)) {
            int expectedNamespaces = Integer.getInteger("example.nvme.namespaces", 2);
            assertEquals(expectedNamespaces, nvme.namespaces().size(), "namespaces as booted: " + nvme.namespaces());
            // MDTS 3: 2^3 pages of 4 KiB.
            assertEquals(Long.getLong("example.nvme.maxTransfer", 32 * 1024), nvme.maxTransferBytes(), "MDTS as booted");
            NvmeQueuePair queue = nvme.queuePair(0);
            for (NvmeNamespace ns : nvme.namespaces()) {
                byte[] data = new byte[8192];
                new Random(ns.hashCode()).nextBytes(data);
                queue.write(ns, 8, data, 0, data.length);
                byte[] back = new byte[data.length];
                queue.read(ns, 8, back, 0, back.length);
                assertArrayEquals(data, back, "namespace " + ns);
            }
        }
    }
}
