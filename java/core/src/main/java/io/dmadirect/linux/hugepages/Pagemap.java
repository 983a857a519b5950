package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.Remedies;

import io.dmadirect.Sizes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Virtual to physical translation through /proc/self/pagemap, one positional 8-byte read per page.
 * It is a slow path (about half a microsecond per read): callers translate each hugepage once and keep
 * the result in a table, never once per lookup.
 *
 * <p>Reads are positional on a FileChannel because pagemap rejects anything but reads of whole 8-byte
 * entries at 8-byte offsets (RandomAccessFile.readLong fails there with EINVAL on JDK 17).
 *
 * @see <a href="https://docs.kernel.org/admin-guide/mm/pagemap.html">Examining Process Page Tables</a>
 */
public final class Pagemap implements AutoCloseable {
    public static final Path SELF = Path.of("/proc/self/pagemap");

    private final FileChannel channel;
    private final long basePageSize;
    private final int pageShift;
    private final ByteBuffer entry = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.nativeOrder());

    private Pagemap(FileChannel channel, long basePageSize) {
        if (Long.bitCount(basePageSize) != 1) {
            throw new IllegalArgumentException("base page size must be a power of two: " + basePageSize);
        }
        this.channel = channel;
        this.basePageSize = basePageSize;
        this.pageShift = Long.numberOfTrailingZeros(basePageSize);
    }

    /** Opens this process's pagemap; {@code basePageSize} is {@code sysconf(_SC_PAGESIZE)}. */
    public static Pagemap openSelf(long basePageSize) {
        return open(SELF, basePageSize);
    }

    static Pagemap open(Path file, long basePageSize) {
        try {
            return new Pagemap(FileChannel.open(file, StandardOpenOption.READ), basePageSize);
        } catch (IOException e) {
            throw LinuxException.setup("open " + file, e.toString(),
                    "pagemap needs a Linux kernel with CONFIG_PROC_PAGE_MONITOR; " + HugepageRemedies.notRoot());
        }
    }

    /** The raw entry for the base page holding {@code virtualAddress}. */
    public synchronized PagemapEntry entry(long virtualAddress) {
        long offset = (virtualAddress >>> pageShift) * Long.BYTES;
        entry.clear();
        try {
            while (entry.hasRemaining()) {
                if (channel.read(entry, offset + entry.position()) < 0) {
                    throw LinuxException.setup(op(virtualAddress), "pagemap ended early", null);
                }
            }
        } catch (IOException e) {
            throw LinuxException.setup(op(virtualAddress), e.toString(), null);
        }
        return new PagemapEntry(entry.getLong(0));
    }

    /**
     * The physical address of {@code virtualAddress}.
     *
     * @throws LinuxException when the page is not present (not populated, or swapped) or the kernel hid
     *         the frame number because this process is not root
     */
    public long physicalAddress(long virtualAddress) {
        return physicalAddress(virtualAddress, entry(virtualAddress));
    }

    /** The physical address that {@code e}, read for {@code virtualAddress}, gives; the same checks as above. */
    long physicalAddress(long virtualAddress, PagemapEntry e) {
        if (e.swapped()) {
            throw LinuxException.setup(op(virtualAddress), "the page is swapped out",
                    "lock the memory with mlock before translating it");
        }
        if (!e.present()) {
            throw LinuxException.setup(op(virtualAddress), "the page is not present",
                    "touch or populate the page (MAP_POPULATE) and lock it before translating it");
        }
        if (e.pfnHidden()) {
            throw LinuxException.setup(op(virtualAddress),
                    "/proc/self/pagemap shows PFN 0 for a present page, so this process may not see "
                            + "physical addresses (it is not root)", HugepageRemedies.notRoot());
        }
        return Math.addExact(Math.multiplyExact(e.pfn(), basePageSize), virtualAddress & (basePageSize - 1));
    }

    public long basePageSize() {
        return basePageSize;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Closing a read-only proc file cannot lose data; nothing to report.
        }
    }

    private static String op(long virtualAddress) {
        return "translate " + Sizes.hex(virtualAddress) + " to a physical address";
    }
}
