package io.dmadirect.linux;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.hugepages.HugepageSysfs;
import io.dmadirect.linux.hugepages.SystemMemoryMap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A fake sysfs and /proc under a temporary directory, for seam tests that must not depend on this host. */
public final class FakeHost {
    public final Path root;

    public FakeHost(Path root) {
        this.root = root;
        write("proc/iomem", "00001000-0009fbff : System RAM\n00100000-bfffffff : System RAM\n");
    }

    /** A 2 MiB (or other) pool with {@code nr} pages of which {@code free} are free. */
    public FakeHost pool(HugepageSize size, long nr, long free) {
        String dir = "sys/kernel/mm/hugepages/" + size.sysfsName() + "/";
        write(dir + "nr_hugepages", nr + "\n");
        write(dir + "free_hugepages", free + "\n");
        write(dir + "resv_hugepages", "0\n");
        return this;
    }

    public HugepageSysfs sysfs() {
        Path dir = root.resolve("sys/kernel/mm/hugepages");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new HugepageSysfs(dir);
    }

    public SystemMemoryMap memoryMap() {
        return new SystemMemoryMap(root, 4096);
    }

    private void write(String file, String text) {
        try {
            Path path = root.resolve(file);
            Files.createDirectories(path.getParent());
            Files.writeString(path, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
