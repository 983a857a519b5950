package io.dmadirect.cli.rig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** {@code dmadirect rig --device}: each spec's guest arguments, address and variable. */
class RigDeviceTest {

    @Test
    void theEduKeepsItsSlotAndTakesItsMask() {
        RigDevice edu = RigDevice.parse("edu,dma_mask=0xffffff", 7, "/d");
        assertEquals(new RigDevice("edu", "0000:00:04.0", "DMADIRECT_RIG_EDU_BDF", List.of("--edu-dma-mask", "0xffffff"),
                Map.of()), edu);
        assertTrue(!edu.extra());
    }

    @Test
    void anNvmeWithMdtsAndNamespacesIsAnExtraControllerWithOneImagePerNamespace() {
        RigDevice nvme = RigDevice.parse("nvme,mdts=5,namespaces=2,ns_size=16M", 7, "/d");
        assertEquals("0000:00:07.0", nvme.bdf());
        assertEquals("DMADIRECT_RIG_NVME_07_BDF", nvme.envName());
        assertEquals(List.of("--qemu-device", "nvme,id=nvme7,serial=dmadirect-7,mdts=5,addr=0x7",
                "--qemu-drive", "file=/d/nvme-ns-16777216.img,if=none,id=nvme7-ns1,format=raw,snapshot=on",
                "--qemu-device", "nvme-ns,drive=nvme7-ns1,bus=nvme7,nsid=1",
                "--qemu-drive", "file=/d/nvme-ns-16777216.img,if=none,id=nvme7-ns2,format=raw,snapshot=on",
                "--qemu-device", "nvme-ns,drive=nvme7-ns2,bus=nvme7,nsid=2"), nvme.guestArgs());
        assertEquals(Map.of("/d/nvme-ns-16777216.img", 16L << 20), nvme.disks());
        assertEquals("0000:00:05.0", RigDevice.parse("nvme", 7, "/d").bdf(), "plain nvme: the rig's own");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "e1000e|0000:00:09.0|DMADIRECT_RIG_E1000E_09_BDF|e1000e,addr=0x9",
        "virtio-net|0000:00:09.0|DMADIRECT_RIG_VIRTIO_NET_09_BDF|virtio-net-pci,addr=0x9",
        "pci-testdev|0000:00:09.0|DMADIRECT_RIG_DEV_09_BDF|pci-testdev,addr=0x9",
        "pci-testdev,addr=0x1c|0000:00:1c.0|DMADIRECT_RIG_DEV_1C_BDF|pci-testdev,addr=0x1c"})
    void networkAndRawDevicesGetASlotAndAVariable(String spec, String bdf, String env, String qemu) {
        RigDevice d = RigDevice.parse(spec, 9, "/d");
        assertEquals(bdf, d.bdf());
        assertEquals(env, d.envName());
        assertEquals(List.of("--qemu-device", qemu), d.guestArgs());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "edu,dma_mask=0x1000|dma_mask=0x1000 is no mask of the form 2^n - 1",
        "edu,irq=5|the edu takes dma_mask=M only",
        "nvme,namespaces=0|namespaces=0 wants a number from 1 to 16",
        "nvme,mdts=x|mdts=x wants a number from 1 to 20",
        "'bad device'|expected edu[,dma_mask=M]"})
    void badSpecsSayWhatIsAccepted(String spec, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RigDevice.parse(spec, 7, "/d"));
        assertTrue(e.getMessage().startsWith("--device " + spec + ": ") && e.getMessage().contains(message), e.getMessage());
    }
}
