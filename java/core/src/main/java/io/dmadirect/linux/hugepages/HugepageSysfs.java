package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.KernelFiles;
import io.dmadirect.linux.LinuxException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The hugepage pools as sysfs shows them: whether a size exists, how many pages are reserved and free.
 * The root is a parameter so tests can show a host without 1 GiB pages.
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/hugetlbpage.html">HugeTLB Pages</a>
 */
public final class HugepageSysfs {
    public static final Path DEFAULT_ROOT = Path.of("/sys/kernel/mm/hugepages");
    public static final HugepageSysfs DEFAULT = new HugepageSysfs(DEFAULT_ROOT);

    private final Path root;

    public HugepageSysfs(Path root) {
        this.root = root;
    }

    public Path directory(HugepageSize size) {
        return root.resolve(size.sysfsName());
    }

    /** Whether the kernel has a pool of this size at all. */
    public boolean supported(HugepageSize size) {
        return Files.isDirectory(directory(size));
    }

    /** The file a root user writes to reserve pages of this size. */
    public Path nrHugepagesPath(HugepageSize size) {
        return directory(size).resolve("nr_hugepages");
    }

    /** Pages in the pool (reserved by the administrator). */
    public long nrHugepages(HugepageSize size) {
        return read(nrHugepagesPath(size));
    }

    /** The file a root user writes to let the pool lend pages beyond nr_hugepages (surplus pages). */
    public Path nrOvercommitPath(HugepageSize size) {
        return directory(size).resolve("nr_overcommit_hugepages");
    }

    /** How many surplus pages the pool may lend beyond nr_hugepages, on demand. */
    public long nrOvercommitHugepages(HugepageSize size) {
        return read(nrOvercommitPath(size));
    }

    /** Surplus pages lent now; they go back to the page allocator when released, not to the pool. */
    public long surplusHugepages(HugepageSize size) {
        return read(directory(size).resolve("surplus_hugepages"));
    }

    /** Sets nr_overcommit_hugepages (root only). */
    void writeOvercommit(HugepageSize size, long pages) {
        Path file = nrOvercommitPath(size);
        try {
            Files.writeString(file, Long.toString(pages), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw LinuxException.setup("write " + pages + " to " + file, e.toString(),
                    "run as root to let the low-memory reserve borrow surplus hugepages, or set its ballast to 0");
        }
    }

    /** Pages in the pool not yet used by anyone. */
    public long freeHugepages(HugepageSize size) {
        return read(directory(size).resolve("free_hugepages"));
    }

    /** Pages promised to mappings but not yet faulted in; they are counted as free but cannot be had. */
    public long reservedHugepages(HugepageSize size) {
        return read(directory(size).resolve("resv_hugepages"));
    }

    /** Free pages that a new mapping can still get. */
    public long availableHugepages(HugepageSize size) {
        return Math.max(freeHugepages(size) - reservedHugepages(size), 0);
    }

    private static long read(Path file) {
        try {
            return Long.parseLong(KernelFiles.read(file).trim());
        } catch (IOException | NumberFormatException e) {
            throw LinuxException.setup("read " + file, e.toString(), "check that sysfs is mounted on /sys");
        }
    }
}
