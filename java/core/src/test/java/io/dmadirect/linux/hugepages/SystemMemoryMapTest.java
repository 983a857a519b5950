package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.HostRequirement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemMemoryMapTest {
    private static final String IOMEM_ROOT = String.join("\n",
            "00000000-00000fff : Reserved",
            "00001000-0009fbff : System RAM",
            "000f0000-000fffff : System ROM",
            "00100000-bfffffff : System RAM",
            "  01000000-01ffffff : Kernel code",
            "fee00000-fee00fff : Local APIC",
            "100000000-63fffffff : System RAM",
            "  5c0000000-5ffffffff : Crash kernel",
            "");
    private static final String IOMEM_NOT_ROOT = String.join("\n",
            "00000000-00000000 : Reserved",
            "00000000-00000000 : System RAM",
            "00000000-00000000 : System RAM",
            "");
    private static final String ZONEINFO = String.join("\n",
            "Node 0, zone      DMA",
            "  per-node stats",
            "        spanned  4095",
            "        present  3999",
            "  start_pfn:           1",
            "Node 0, zone    DMA32",
            "        spanned  1044480",
            "  start_pfn:           4096",
            "Node 0, zone   Normal",
            "        spanned  5505024",
            "  start_pfn:           1048576",
            "Node 0, zone  Movable",
            "        spanned  0",
            "");

    @Test
    void iomemGivesHighestSystemRamEnd() {
        assertEquals(OptionalLong.of(0x63fffffffL), SystemMemoryMap.parseIomem(IOMEM_ROOT));
    }

    @Test
    void iomemOfNonRootShowsZerosAndGivesNothing() {
        assertEquals(OptionalLong.empty(), SystemMemoryMap.parseIomem(IOMEM_NOT_ROOT));
    }

    @Test
    void zoneinfoGivesEndOfHighestZoneSpan() {
        assertEquals(OptionalLong.of(0x63fffffffL), SystemMemoryMap.parseZoneinfo(ZONEINFO, 4096));
    }

    @Test
    void fallsBackFromZeroedIomemToFirmwareMemmap(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/iomem"), IOMEM_NOT_ROOT);
        entry(root, 0, "0x0", "0x9fbff", "System RAM");
        entry(root, 1, "0x100000", "0x27fffffff", "System RAM");
        entry(root, 2, "0xfec00000", "0xffffffff", "Reserved");
        assertEquals(0x27fffffffL, new SystemMemoryMap(root, 4096).highestRamAddress());
    }

    @Test
    void fallsBackToZoneinfoThenMemoryBlocks(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/zoneinfo"), ZONEINFO);
        assertEquals(0x63fffffffL, new SystemMemoryMap(root, 4096).highestRamAddress());
        Files.delete(root.resolve("proc/zoneinfo"));
        Path blocks = Files.createDirectories(root.resolve("sys/devices/system/memory"));
        Files.writeString(blocks.resolve("block_size_bytes"), "8000000\n");
        Files.createDirectories(blocks.resolve("memory0"));
        Files.createDirectories(blocks.resolve("memory199"));
        assertEquals(200L * 0x8000000 - 1, new SystemMemoryMap(root, 4096).highestRamAddress());
    }

    @Test
    void thisHostHasRamAboveOneMegabyte() {
        HostRequirement.require(Files.exists(Path.of("/proc/zoneinfo")), "needs Linux /proc");
        long highest = SystemMemoryMap.host(4096).highestRamAddress();
        assertTrue(highest > 1 << 20, Long.toHexString(highest));
        // Every source agrees on this host's last byte of RAM, within a memory block.
        OptionalLong zone = SystemMemoryMap.parseZoneinfo(read("/proc/zoneinfo"), 4096);
        assertEquals(zone.getAsLong(), highest);
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void entry(Path root, int n, String start, String end, String type) throws Exception {
        Path dir = Files.createDirectories(root.resolve("sys/firmware/memmap/" + n));
        Files.writeString(dir.resolve("start"), start + "\n");
        Files.writeString(dir.resolve("end"), end + "\n");
        Files.writeString(dir.resolve("type"), type + "\n");
    }
}
