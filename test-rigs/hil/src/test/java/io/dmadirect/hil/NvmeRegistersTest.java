package io.dmadirect.hil;

import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.Sizes;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.host.PciSession;
import org.junit.jupiter.api.Test;

/**
 * Lab notebook: a second device in its own group and container.
 * Device: QEMU NVMe (1b36:0010) on vfio-pci, whose BAR0 also holds the MSI-X table.
 * Setup: a session of its own (its own container, IOVA mode).
 * Action: read CAP and VS from BAR0.
 * Seen: CAP 0x004018200f0107ff and VS 1.4, read with pread when VFIO offers only a sparse mmap.
 */
@Tag("nvme")
class NvmeRegistersTest {

    @Test
    void capAndVersionReadBack() {
        Rig.requireRig();
        Rig.require(Rig.iommu(), "NVMe is bound to vfio-pci only in the intel-iommu variant");
        PciAddress bdf = PciAddress.parse(System.getenv("DMADIRECT_RIG_NVME_BDF"));
        try (PciSession nvme = PciSession.open(bdf, HugepageOptions.DEFAULTS.withInitialBytes(8 * Sizes.MiB)
                .withName("hil-nvme"))) {
            assertEquals(AddressMode.IOVA, nvme.mode());
            MmioRegion bar0 = nvme.pci().bar(0);
            long cap = bar0.read64(0x0);
            int vs = bar0.read32(0x8);
            assertEquals(0x004018200f0107ffL, cap, "CAP");
            assertEquals(0x10400, vs, "VS 1.4");
            Rig.note("nvme " + bdf + ": CAP " + Sizes.hex(cap) + ", VS 0x" + Integer.toHexString(vs) + " via " + bar0);
        }
    }
}
