package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;

import java.io.IOException;
import java.nio.file.Files;

/**
 * Test setup: makes sure the pool has at least N free pages of a size, by raising nr_hugepages as root,
 * and puts the old value back on close.
 */
public final class ReservedHugepages implements AutoCloseable {
    private final HugepageSysfs sysfs = HugepageSysfs.DEFAULT;
    private final HugepageSize size;
    private final long previous;

    private ReservedHugepages(HugepageSize size, long previous) {
        this.size = size;
        this.previous = previous;
    }

    public static ReservedHugepages atLeastAvailable(HugepageSize size, long pages) {
        HugepageSysfs sysfs = HugepageSysfs.DEFAULT;
        ReservedHugepages reserved = new ReservedHugepages(size, sysfs.nrHugepages(size));
        long missing = pages - sysfs.availableHugepages(size);
        if (missing > 0) {
            reserved.write(reserved.previous + missing);
        }
        long available = sysfs.availableHugepages(size);
        if (available < pages) {
            reserved.close();
        }
        HostRequirement.require(available >= pages, "could reserve only " + available + " free " + size
                + " hugepages of " + pages + " needed (memory too fragmented?)");
        return reserved;
    }

    /**
     * Asks the kernel to compact all memory ({@code /proc/sys/vm/compact_memory}, root), so that hugepages
     * reserved next come from large free blocks, often physically adjacent. Best effort: a kernel without
     * CONFIG_COMPACTION has no such file, and the reservation then takes what there is.
     */
    public static void compactMemory() {
        try {
            Files.writeString(java.nio.file.Path.of("/proc/sys/vm/compact_memory"), "1");
        } catch (IOException | RuntimeException e) {
            System.out.println("host: memory not compacted: " + e);
        }
    }

    public long available() {
        return sysfs.availableHugepages(size);
    }

    public long free() {
        return sysfs.freeHugepages(size);
    }

    @Override
    public void close() {
        write(previous);
    }

    private void write(long count) {
        try {
            Files.writeString(sysfs.nrHugepagesPath(size), Long.toString(count));
        } catch (IOException e) {
            HostRequirement.require(false, "cannot write " + sysfs.nrHugepagesPath(size) + ": " + e);
        }
    }
}
