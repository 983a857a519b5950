package io.dmadirect.linux.hugepages;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing what the kernel says is free, from copies of the files. */
class FreeMemoryTest {

    @Test
    void lowZonesAreDmaAndDma32OfEveryNode(@TempDir Path proc) throws Exception {
        Files.writeString(proc.resolve("zoneinfo"), String.join("\n",
                "Node 0, zone      DMA", "  per-node stats", "  pages free     3840", "        min      31",
                "Node 0, zone    DMA32", "  pages free     772808",
                "Node 0, zone   Normal", "  pages free     715105",
                "Node 1, zone    DMA32", "  pages free     100",
                "Node 1, zone  Movable", "  pages free     0", ""));
        Files.writeString(proc.resolve("meminfo"), "MemTotal:       24683656 kB\nMemAvailable:   23705436 kB\n");
        FreeMemory free = new FreeMemory(proc);
        assertEquals(3840 + 772808 + 100, free.lowZoneFreePages());
        assertEquals(23705436L * 1024, free.availableBytes());
    }
}
