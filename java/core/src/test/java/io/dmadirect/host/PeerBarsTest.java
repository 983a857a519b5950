package io.dmadirect.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.CloseRaces;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaUsageException;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.linux.sysfs.HostTree;
import io.dmadirect.linux.sysfs.PciBus;
import io.dmadirect.pci.AddressMode;
import io.dmadirect.pci.BarMapping;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciAddress;
import io.dmadirect.pci.PciDevice;
import io.dmadirect.sim.SimulatedIommu;
import io.dmadirect.sim.SimulatedMemory;
import io.dmadirect.sim.SimulatedPlatform;
import io.dmadirect.spi.ZoneLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PciSession#mapPeerBar}'s policy ({@link PeerBars}) on simulated parts: in PA mode the BAR's address
 * from sysfs {@code resource} goes through {@code dma_map_resource()}'s checks; in IOVA mode the pages of the
 * BAR's CPU mapping are mapped within the device's mask; close unmaps what is left, and calls racing close get
 * either a mapping or a clear refusal.
 */
class PeerBarsTest {
    private static final long MiB = 1L << 20;
    private static final long GiB = 1L << 30;
    private static final PciAddress PEER = PciAddress.parse("0000:00:06.0");
    private static final long BAR2_PHYS = 0xfe00_0000L;
    private static final long BAR_CPU = 0x7f00_0000_0000L;

    @TempDir
    Path sys;

    private PciBus bus() throws IOException {
        Path dir = sys.resolve("bus/pci/devices").resolve(PEER.toString());
        Files.createDirectories(dir);
        String unassigned = "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
        Files.writeString(dir.resolve("resource"), "0x00000000febf0000 0x00000000febf3fff 0x0000000000140204\n"
                + unassigned + String.format("0x%016x 0x%016x 0x000000000014220c%n", BAR2_PHYS, BAR2_PHYS + MiB - 1)
                + unassigned + unassigned + unassigned);
        return new PciBus(HostTree.of(sys, sys.resolve("dev")));
    }

    @Test
    void paModeGivesTheBarsPhysicalAddressWhereTheMaskReachesIt() throws IOException {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).build()) {
            DmaDevice dma = platform.attach(DeviceProperties.simple("edu"));
            PeerBars bars = new PeerBars("edu", dma, null, bus());
            BarMapping m = bars.map(new FakePeer(OptionalLong.empty()), 2, 0x1000, 4096, DmaDirection.BIDIRECTIONAL);
            assertEquals(BAR2_PHYS + 0x1000, m.dmaAddress(), "dma = phys, the BAR's start from sysfs plus the offset");
            m.close();
            assertTrue(m.isClosed());

            dma.setDmaMask(DmaMask.bits(28));
            DmaMappingException far = assertThrows(DmaMappingException.class,
                    () -> bars.map(new FakePeer(OptionalLong.empty()), 2, 0x1000, 4096, DmaDirection.TO_DEVICE));
            assertTrue(far.getMessage().contains("dma_capable"), far.getMessage());
            DmaMappingException none = assertThrows(DmaMappingException.class,
                    () -> bars.map(new FakePeer(OptionalLong.empty()), 1, 0, 4096, DmaDirection.TO_DEVICE));
            assertTrue(none.getMessage().contains("unassigned"), none.getMessage());
            bars.close();
        }
    }

    @Test
    void badInputIsNamed() throws IOException {
        try (SimulatedPlatform platform = SimulatedPlatform.builder().region(0, 64 * MiB).build()) {
            PeerBars bars = new PeerBars("edu", platform.attach(DeviceProperties.simple("edu")), null, bus());
            FakePeer peer = new FakePeer(OptionalLong.empty());
            assertThrows(IllegalArgumentException.class, () -> bars.map(null, 2, 0, 4096, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> bars.map(peer, 6, 0, 4096, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> bars.map(peer, 2, -1, 4096, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> bars.map(peer, 2, 0, 0, DmaDirection.TO_DEVICE));
            assertThrows(IllegalArgumentException.class, () -> bars.map(peer, 2, 0, 4096, DmaDirection.NONE));
            IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                    () -> bars.map(peer, 2, MiB - 4096, 8192, DmaDirection.TO_DEVICE));
            assertTrue(outside.getMessage().contains("outside the BAR"), outside.getMessage());
        }
    }

    private static IovaMemory iovaMemory(SimulatedIommu iommu) {
        SimulatedMemory memory = new SimulatedMemory(2 * MiB, List.of(new long[] {64 * GiB, 64 * MiB}), 72 * GiB);
        return IovaMemory.map(memory, iommu, ZoneLayout.DEFAULT, null);
    }

    private static DirectPlatform platformOver(IovaMemory memory) {
        return PciPlatforms.over("iova-sim", memory,
                PciPlatforms.defaults().withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER));
    }

    @Test
    void iovaModeMapsTheBarsPagesWithinTheMaskAndKeepsTheOffset() throws IOException {
        SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
        IovaMemory memory = iovaMemory(iommu);
        try (DirectPlatform platform = platformOver(memory)) {
            DmaDevice dma = platform.attach(DeviceProperties.simple("edu"));
            dma.setDmaMask(DmaMask.bits(28));
            PeerBars bars = new PeerBars("edu", dma, memory, bus());
            BarMapping m = bars.map(new FakePeer(OptionalLong.of(BAR_CPU)), 2, 0x1800, 0x1000, DmaDirection.BIDIRECTIONAL);
            assertTrue(m.dmaAddress() + 0xfff <= (1L << 28) - 1, "within the 28-bit mask: " + Long.toHexString(m.dmaAddress()));
            assertEquals(BAR_CPU + 0x1800, iommu.translate(m.dmaAddress(), 0x1000), "the IOVA reaches the BAR's offset");
            assertEquals(0x800, m.dmaAddress() & 0xfff, "the offset within the page is kept");
            assertEquals(1, memory.mmioMappingCount());
            m.close();
            assertEquals(0, memory.mmioMappingCount());
            m.close(); // idempotent

            DmaMappingException unmapped = assertThrows(DmaMappingException.class,
                    () -> bars.map(new FakePeer(OptionalLong.empty()), 2, 0, 4096, DmaDirection.TO_DEVICE));
            assertTrue(unmapped.getMessage().contains("not mapped into this process"), unmapped.getMessage());

            BarMapping left = bars.map(new FakePeer(OptionalLong.of(BAR_CPU)), 2, 0, 4096, DmaDirection.TO_DEVICE);
            bars.close();
            assertTrue(left.isClosed(), "close unmapped what the driver left");
            assertEquals(0, memory.mmioMappingCount());
            assertThrows(DmaUsageException.class,
                    () -> bars.map(new FakePeer(OptionalLong.of(BAR_CPU)), 2, 0, 4096, DmaDirection.TO_DEVICE));
            left.close(); // a no-op after the session's close
        }
    }

    @Test
    void threadsRacingCloseGetAMappingOrAClearRefusalAndNothingStaysMapped() throws Exception {
        for (int round = 0; round < 10; round++) {
            SimulatedIommu iommu = SimulatedIommu.likeIntelIommu();
            IovaMemory memory = iovaMemory(iommu);
            try (DirectPlatform platform = platformOver(memory)) {
                DmaDevice dma = platform.attach(DeviceProperties.simple("edu"));
                PeerBars bars = new PeerBars("edu", dma, memory, bus());
                CloseRaces.race(4, t -> {
                    for (int i = 0; i < 500; i++) {
                        BarMapping m = bars.map(new FakePeer(OptionalLong.of(BAR_CPU)), 2, t * 0x10000L, 4096,
                                DmaDirection.BIDIRECTIONAL);
                        if (i % 2 == 0) {
                            m.close();
                        }
                    }
                }, bars::close);
                assertEquals(0, memory.mmioMappingCount(), "close left no MMIO mapped");
                assertEquals(0, bars.liveCount());
                assertEquals(memory.mappingCount(), iommu.mappingCount(), "the IOMMU holds the memory's chunks, no MMIO");
            }
        }
    }

    /** A peer whose BAR2 is 1 MiB, mapped at {@code cpu} (or not mapped), and that does nothing else. */
    private static final class FakePeer implements PciDevice {
        private final OptionalLong cpu;

        FakePeer(OptionalLong cpu) {
            this.cpu = cpu;
        }

        @Override
        public PciAddress address() {
            return PEER;
        }

        @Override
        public String driver() {
            return "vfio-pci";
        }

        @Override
        public AddressMode addressMode() {
            return AddressMode.IOVA;
        }

        @Override
        public int vendorId() {
            return 0x1b36;
        }

        @Override
        public int deviceId() {
            return 0x0010;
        }

        @Override
        public int readConfig8(int offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int readConfig16(int offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int readConfig32(int offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void writeConfig8(int offset, int value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void writeConfig16(int offset, int value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void writeConfig32(int offset, int value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MmioRegion bar(int index) {
            return new FakeBar(index, cpu);
        }

        @Override
        public boolean canReset() {
            return false;
        }

        @Override
        public void reset() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int interruptCount(InterruptKind kind) {
            return 0;
        }

        @Override
        public Interrupt enableInterrupt(InterruptKind kind, int vector) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    private record FakeBar(int index, OptionalLong cpuAddress) implements MmioRegion {
        @Override
        public long size() {
            return MiB;
        }

        @Override
        public boolean mapped() {
            return cpuAddress.isPresent();
        }

        @Override
        public int read8(long offset) {
            return 0;
        }

        @Override
        public int read16(long offset) {
            return 0;
        }

        @Override
        public int read32(long offset) {
            return 0;
        }

        @Override
        public long read64(long offset) {
            return 0;
        }

        @Override
        public void write8(long offset, int value) {
        }

        @Override
        public void write16(long offset, int value) {
        }

        @Override
        public void write32(long offset, int value) {
        }

        @Override
        public void write64(long offset, long value) {
        }
    }
}
