package io.dmadirect.hil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.Sizes;
import io.dmadirect.drivers.edu.EduDriver;
import io.dmadirect.host.PciSession;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.BarMapping;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.pci.PciDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, {@code dma_map_resource()} for peer-to-peer DMA. Device: the edu's DMA engine, and as its target the
 * controller memory buffer (CMB) of the rig's second NVMe ({@code run-guest.sh --nvme-cmb}: QEMU 7.2 hw/nvme,
 * {@code cmb_size_mb=1}, BAR2). Setup: the NVMe opened in a session of its own, memory decoding on, its BAR2
 * mapped for the edu with {@link PciSession#mapPeerBar}. Action: a pattern goes RAM, edu, CMB; another goes CMB,
 * edu, RAM. What must be seen: in IOVA mode through VFIO type1, both arrive byte for byte (the CMB read and
 * written through the NVMe BAR's CPU mapping) at an IOVA within the edu's 28-bit mask, and the IOVA is gone
 * after close; where the mapping cannot be made (iommufd refusing a PFNMAP range, or PA mode with a BAR beyond
 * the edu's 28 bits), the exception that says why, with its errno or its addresses, is the evidence.
 */
@Tag("cmb")
class PeerBarDmaTest {
    /** The CMB's BAR in QEMU 7.2 ({@code NVME_CMB_BIR}). */
    private static final int CMB_BAR = 2;
    private static final long CAP = 0x00;
    private static final long CMBLOC = 0x38;
    private static final long CMBSZ = 0x3c;
    private static final long CMBMSC = 0x50;
    /** Where in the CMB the test writes: not offset 0, so a mapping that dropped the offset would be seen. */
    private static final long OFFSET = 0x1000;

    @Test
    void eduCopiesIntoAndOutOfAnNvmeControllerMemoryBuffer() {
        EduDriver edu = Rig.edu();
        PciSession eduSession = Rig.eduSession();
        String bdf = System.getenv("DMADIRECT_RIG_NVME_CMB_BDF");
        Rig.require(bdf != null, "the CMB NVMe is there only with run-guest.sh --nvme-cmb");
        try (PciSession nvme = PciSession.open(PciAddress.parse(bdf),
                HugepageOptions.DEFAULTS.withInitialBytes(4 * Sizes.MiB).withName("hil-cmb"))) {
            PciDevice peer = nvme.pci();
            peer.writeConfig16(PciDevice.PCI_COMMAND, peer.readConfig16(PciDevice.PCI_COMMAND) | PciDevice.COMMAND_MEMORY);
            describeCmb(peer);
            MmioRegion cmb = peer.bar(CMB_BAR);
            int n = EduDriver.MAX_TRANSFER;
            if (eduSession.mode() == AddressMode.PA) {
                paMode(edu, eduSession, cmb, peer, n);
                return;
            }
            BarMapping mapping;
            try {
                mapping = eduSession.mapPeerBar(peer, CMB_BAR, OFFSET, n, DmaDirection.BIDIRECTIONAL);
            } catch (DmaMappingException e) {
                Rig.note("peer BAR: " + eduSession.iommuName().orElse("?") + " refused to map the CMB for the edu: "
                        + e.getMessage());
                assertTrue(Rig.iommufd(), "only iommufd may refuse a BAR's PFNMAP mapping; VFIO type1 maps it: " + e);
                assertTrue(e.getMessage().contains("errno") && e.getMessage().contains("VFIO_TYPE1"),
                        "the refusal names the kernel's errno and the remedy: " + e.getMessage());
                return;
            }
            roundTrips(edu, eduSession, cmb, mapping, n);
        }
    }

    private static void roundTrips(EduDriver edu, PciSession eduSession, MmioRegion cmb, BarMapping mapping, int n) {
        IovaMemory iova = eduSession.iovaMemory().orElseThrow();
        long dma = mapping.dmaAddress();
        assertTrue(dma + n - 1 <= Rig.MASK_28, "IOVA " + Sizes.hex(dma) + " lies within the edu's 28-bit mask");
        assertTrue(iova.isMapped(dma), "the IOVA is mapped in the edu's IOMMU domain");
        copyBothWays(edu, cmb, dma, n);
        Rig.note("peer BAR: edu DMA into the NVMe CMB (" + mapping.peer() + " BAR" + CMB_BAR + " + " + Sizes.hex(OFFSET)
                + ") through " + eduSession.iommuName().orElse("?") + " at IOVA " + Sizes.hex(dma) + ": " + n
                + " bytes RAM -> edu -> CMB MATCH, " + n + " bytes CMB -> edu -> RAM MATCH (read and written through BAR"
                + CMB_BAR + "'s CPU mapping)");
        mapping.close();
        assertTrue(mapping.isClosed());
        assertFalse(iova.isMapped(dma), "the IOVA is unmapped after close");
        assertEquals(0, iova.mmioMappingCount());
        mapping.close(); // idempotent
    }

    /** RAM -> edu -> CMB, then CMB -> edu -> RAM, each checked byte for byte; the CMB through its BAR mapping. */
    private static void copyBothWays(EduDriver edu, MmioRegion cmb, long dma, int n) {
        byte[] toCmb = NvmeRig.pattern(n, 0x17_0001L);
        byte[] fromCmb = NvmeRig.pattern(n, 0x17_0002L);
        try (DmaBuffer src = edu.dma().allocCoherent(n); DmaBuffer dst = edu.dma().allocCoherent(n)) {
            // RAM -> edu -> CMB, checked through the NVMe BAR's own CPU mapping.
            src.cpuView().put(toCmb);
            edu.toDevice(src.dmaAddress(), 0, n);
            edu.fromDevice(0, dma, n);
            NvmeRig.assertSameBytes(toCmb, readCmb(cmb, n), "RAM -> edu -> CMB");
            // CMB (written by the CPU) -> edu -> RAM.
            writeCmb(cmb, fromCmb);
            edu.toDevice(dma, 0, n);
            edu.fromDevice(0, dst.dmaAddress(), n);
            byte[] seen = new byte[n];
            dst.cpuView().get(seen);
            NvmeRig.assertSameBytes(fromCmb, seen, "CMB -> edu -> RAM");
        }
    }

    /**
     * PA mode: the address is the BAR's physical address. QEMU's edu drives 28 bits unless the rig widens it
     * ({@code --edu-dma-mask}, {@code DMADIRECT_HIL_GUEST_ARGS}); the firmware places the BAR near 4 GiB. With
     * 28 bits the refusal ({@code dma_capable}) is the evidence; with a mask that reaches the BAR the driver
     * widens the device's mask to it and the copies must arrive, at DMA address = physical address.
     */
    private static void paMode(EduDriver edu, PciSession eduSession, MmioRegion cmb, PciDevice peer, int n) {
        long start = barStart(peer.address());
        long last = start + OFFSET + n - 1;
        long qemuMask = Long.decode(System.getenv().getOrDefault("DMADIRECT_RIG_EDU_DMA_MASK", "0xfffffff"));
        if (last > qemuMask) {
            DmaMappingException e = assertThrows(DmaMappingException.class,
                    () -> eduSession.mapPeerBar(peer, CMB_BAR, OFFSET, n, DmaDirection.BIDIRECTIONAL));
            assertTrue(e.getMessage().contains("dma_capable"), e.getMessage());
            Rig.note("peer BAR: PA mode, CMB BAR" + CMB_BAR + " at phys " + Sizes.hex(start) + " is beyond the edu's "
                    + "mask; refused as dma_direct_map_phys(DMA_ATTR_MMIO) refuses it: " + e.getMessage());
            return;
        }
        DmaDevice dma = eduSession.dma();
        DmaMask before = dma.dmaMask();
        dma.setDmaMask(DmaMask.bits(64 - Long.numberOfLeadingZeros(qemuMask)));
        try (BarMapping mapping = eduSession.mapPeerBar(peer, CMB_BAR, OFFSET, n, DmaDirection.BIDIRECTIONAL)) {
            assertEquals(start + OFFSET, mapping.dmaAddress(), "PA mode: the DMA address is the physical address");
            copyBothWays(edu, cmb, mapping.dmaAddress(), n);
            Rig.note("peer BAR: PA mode, edu (QEMU dma_mask " + Sizes.hex(qemuMask) + ", device mask " + dma.dmaMask()
                    + ") DMA into the NVMe CMB at phys = DMA " + Sizes.hex(mapping.dmaAddress()) + ": " + n
                    + " bytes RAM -> edu -> CMB MATCH, " + n + " bytes CMB -> edu -> RAM MATCH");
        } finally {
            dma.setDmaMask(before);
        }
    }

    /** What the controller says of its CMB: CAP.CMBS, and CMBLOC/CMBSZ once CMBMSC.CRE enables those registers. */
    private static void describeCmb(PciDevice peer) {
        MmioRegion regs = peer.bar(0);
        long cap = regs.read64(CAP);
        boolean cmbs = (cap >>> 57 & 1) != 0;
        regs.write64(CMBMSC, 1); // CRE: capability registers enabled; CMSE (controller use) stays off
        int cmbloc = regs.read32(CMBLOC);
        int cmbsz = regs.read32(CMBSZ);
        Rig.note("peer BAR: NVMe " + peer.address() + " CAP.CMBS " + (cmbs ? 1 : 0) + ", CMBLOC 0x"
                + Integer.toHexString(cmbloc) + " (BIR " + (cmbloc & 7) + "), CMBSZ 0x" + Integer.toHexString(cmbsz)
                + ", BAR" + CMB_BAR + " " + peer.bar(CMB_BAR).size() + " bytes");
        assertTrue(cmbs, "the NVMe reports a CMB (CAP.CMBS)");
        assertEquals(CMB_BAR, cmbloc & 7, "the CMB lies in BAR2 (CMBLOC.BIR)");
    }

    private static byte[] readCmb(MmioRegion cmb, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) cmb.read8(OFFSET + i);
        }
        return b;
    }

    private static void writeCmb(MmioRegion cmb, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            cmb.write8(OFFSET + i, data[i]);
        }
    }

    /** BAR start from sysfs {@code resource}, for the PA-mode expectation. */
    private static long barStart(PciAddress address) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/sys/bus/pci/devices", address.toString(), "resource"));
            return Long.decode(lines.get(CMB_BAR).trim().split("\\s+")[0]);
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot read the sysfs resource of " + address, e);
        }
    }

}
