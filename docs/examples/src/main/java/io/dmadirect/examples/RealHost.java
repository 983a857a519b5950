package io.dmadirect.examples;

import io.dmadirect.host.LinuxPlatform;

import static io.dmadirect.Sizes.GiB;
import static io.dmadirect.Sizes.MiB;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.LowMemoryQuota;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.BarMapping;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.pci.PciDevice;
import io.dmadirect.host.PciSession;

/** The guide's examples on a real host. They are compiled by the build and run only on a prepared host. */
public final class RealHost {
    private RealHost() {
    }

    /** Opens a device bound to vfio-pci or uio_pci_generic and starts it. */
    public static AddressMode openDevice(String bdf) {
        // region:open-device
        try (PciSession session = PciSession.open(PciAddress.parse(bdf), HugepageOptions.DEFAULTS)) {
            AddressMode mode = session.mode();      // IOVA behind an IOMMU; PA with no-IOMMU or UIO
            PciDevice pci = session.pci();          // config space, BARs, interrupts
            DmaDevice dma = session.dma();          // the same API as on the simulated platform
            dma.setMaskAndCoherent(DmaMask.bits(28));
            MmioRegion bar0 = pci.bar(0);
            pci.enableBusMaster();
            try (DmaBuffer ring = dma.allocCoherent(4096)) {
                bar0.write32(0x80, (int) ring.dmaAddress());    // a register of the device
            }
            return mode;
        }
        // endregion:open-device
    }

    /** PA mode without a device: pinned hugepages with physical addresses (root). */
    public static int paPlatform() {
        // region:pa-platform
        LinuxPlatformOptions options = LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(64 * MiB).withMaxBytes(GiB))
                .withLowMemory(new LowMemoryQuota(0, 8 * MiB, 0, 20 * GiB));   // keep 8 MiB below 4 GiB
        try (DmaPlatform platform = LinuxPlatform.open(options)) {
            System.out.println(platform.memoryStats());     // what each zone holds and has free
            return platform.zoneDmaBits();
        }
        // endregion:pa-platform
    }

    /** Peer-to-peer: a DMA engine (edu) writes into an NVMe controller memory buffer (BAR2). */
    public static long peerToPeer(String engineBdf, String nvmeBdf) {
        // region:peer-bar
        try (PciSession engine = PciSession.open(PciAddress.parse(engineBdf), HugepageOptions.DEFAULTS);
                PciSession nvme = PciSession.open(PciAddress.parse(nvmeBdf), HugepageOptions.DEFAULTS)) {
            engine.dma().setMaskAndCoherent(DmaMask.bits(28));
            PciDevice peer = nvme.pci();
            peer.writeConfig16(PciDevice.PCI_COMMAND, peer.readConfig16(PciDevice.PCI_COMMAND) | PciDevice.COMMAND_MEMORY);
            try (BarMapping cmb = engine.mapPeerBar(peer, 2, 0x1000, 4096, DmaDirection.FROM_DEVICE)) {
                long target = cmb.dmaAddress();     // an IOVA within 28 bits, or the BAR's physical address
                engine.pci().bar(0).write64(0x88, target);   // the engine's DMA destination register
                return target;
            }                                       // dma_unmap_resource(); before the peer's session closes
        }
        // endregion:peer-bar
    }
}
