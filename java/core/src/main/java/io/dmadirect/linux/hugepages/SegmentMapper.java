package io.dmadirect.linux.hugepages;

import io.dmadirect.linux.LinuxException;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Remedies;
import io.dmadirect.linux.Syscalls;

import io.dmadirect.Sizes;
import io.dmadirect.linux.headers.Errno;
import io.dmadirect.linux.headers.Fcntl;
import io.dmadirect.linux.headers.MemfdFlags;
import io.dmadirect.linux.headers.Mempolicy;
import io.dmadirect.linux.headers.Mman;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Maps one segment of hugepages the way DPDK's EAL and SPDK do, with memfd instead of a mount:
 * memfd_create(MFD_HUGETLB), ftruncate, one mmap(MAP_SHARED | MAP_POPULATE) of the whole file so the
 * pages are virtually contiguous and faulted in now, then for PA mode mlock and one pagemap read per
 * page. Each failure is turned into its remedy; whatever was set up is undone before the error is thrown.
 *
 * <p>Memory for an IOMMU ({@link HugepageAddressing#IOMMU}) is neither locked nor translated.
 * {@code VFIO_IOMMU_MAP_DMA} pins the pages itself and counts them in the process's {@code locked_vm}
 * against RLIMIT_MEMLOCK, unless the caller has CAP_IPC_LOCK. mlock would add nothing: on a hugetlb
 * mapping the kernel's {@code mlock_fixup()} neither sets VM_LOCKED nor counts the pages, and hugetlb
 * pages are never swapped. The limit is still checked first, so that the user reads the remedy instead
 * of a bare ENOMEM from the map ioctl.
 *
 * @see <a href="https://man7.org/linux/man-pages/man2/memfd_create.2.html">memfd_create(2)</a>
 * @see <a href="https://docs.kernel.org/admin-guide/mm/hugetlbpage.html">HugeTLB Pages</a>
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/mm/mlock.c">mlock_fixup() (hugetlb is not counted)</a>
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/drivers/vfio/vfio_iommu_type1.c">vfio_pin_pages_remote()</a>
 */
final class SegmentMapper {
    private static final System.Logger LOG = System.getLogger(SegmentMapper.class.getName());
    private static final String PREFIX = "linux/hugepages: ";

    private final Syscalls sys;
    private final HugepageSysfs sysfs;
    private final ProcessCapabilities caps;
    private final HugepageOptions options;
    private final HugepageAddressing addressing;
    private final AtomicInteger sequence = new AtomicInteger();

    SegmentMapper(Syscalls sys, HugepageSysfs sysfs, ProcessCapabilities caps, HugepageOptions options,
            HugepageAddressing addressing) {
        this.sys = sys;
        this.sysfs = sysfs;
        this.caps = caps;
        this.options = options;
        this.addressing = addressing;
    }

    /** Fails early, before any call, when the kernel has no pool of the configured page size. */
    void requirePageSize() {
        HugepageSize size = options.pageSize();
        if (!sysfs.supported(size)) {
            throw HugepageRemedies.pageSizeUnavailable(size, sysfs.directory(size).toString());
        }
    }

    /**
     * Maps {@code pages} hugepages; {@code lockedBytes} is what this memory holds locked (PA mode) or
     * pinned by the IOMMU (IOVA mode) already.
     */
    Segment map(int pages, long lockedBytes) {
        long pageSize = options.pageSize().bytes();
        long bytes = Math.multiplyExact(pages, pageSize);
        boolean physical = addressing == HugepageAddressing.PHYSICAL;
        if (physical) {
            MemlockLimit.require(sys, caps, Math.addExact(lockedBytes, bytes));
        } else {
            MemlockLimit.requireForIommu(sys, caps, Math.addExact(lockedBytes, bytes));
        }
        int fd = openBacking();
        long address = 0;
        try {
            sys.ftruncate(fd, bytes);
            address = mmapPopulated(fd, pages, bytes);
            if (!physical) {
                adviseNoDump(address, bytes);
                return new Segment(fd, address, pageSize, pages, null);
            }
            long[] phys = translate(address, pages, pageSize);
            int[] byAddress = sortedByAddress(phys, pageSize);
            if (byAddress != null) {
                remapInOrder(fd, address, pageSize, byAddress);
                long[] sorted = new long[pages];
                for (int i = 0; i < pages; i++) {
                    sorted[i] = phys[byAddress[i]];
                }
                phys = sorted;
            }
            sys.mlock(address, bytes);
            adviseNoDump(address, bytes);
            return new Segment(fd, address, pageSize, pages, phys, byAddress);
        } catch (RuntimeException e) {
            undo(fd, address, bytes, e);
            throw e;
        }
    }

    private int openBacking() {
        Path directory = options.hugetlbfsDirectory();
        if (directory == null) {
            int flags = MemfdFlags.MFD_CLOEXEC | MemfdFlags.MFD_HUGETLB | options.pageSize().memfdFlag();
            return sys.memfdCreate(options.name(), flags);
        }
        // A file on a hugetlbfs mount, unlinked at once: the open descriptor keeps it alive, and a crash
        // leaves nothing behind, as with memfd.
        Path file = directory.resolve(options.name() + "-" + sys.getpid() + "-" + sequence.getAndIncrement());
        int fd = sys.open(file.toString(), Fcntl.O_CREAT | Fcntl.O_EXCL | Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0600);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            sys.close(fd);
            throw LinuxException.setup("unlink " + file, e.toString(), "check that the directory is writable");
        }
        return fd;
    }

    /**
     * The file pages in the order of their physical addresses, or null when that order would join no more pages
     * into runs than the file's order does (already sorted, or no two pages physically adjacent). The pool hands
     * out its pages in the order they were last freed, which is no order at all on a host that has run for a
     * while; mapped as the file orders them, physically adjacent hugepages rarely lie at adjacent virtual
     * addresses and a buffer of several hugepages could never be served contiguously. Remapping costs a system
     * call per page out of place (issue 18: a sixth of the start), so it is done only when it makes runs longer.
     */
    static int[] sortedByAddress(long[] phys, long pageSize) {
        Integer[] order = new Integer[phys.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Long.compareUnsigned(phys[a], phys[b]));
        int[] result = new int[order.length];
        long[] sorted = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            result[i] = order[i];
            sorted[i] = phys[order[i]];
        }
        return adjacentPairs(sorted, pageSize) > adjacentPairs(phys, pageSize) ? result : null;
    }

    /** How many neighbours in {@code phys} are physically adjacent pages: each joins two pages into one run. */
    private static int adjacentPairs(long[] phys, long pageSize) {
        int pairs = 0;
        for (int i = 1; i < phys.length; i++) {
            if (phys[i] == phys[i - 1] + pageSize) {
                pairs++;
            }
        }
        return pairs;
    }

    /**
     * Maps file page {@code filePage[j]} at virtual page {@code j} (MAP_FIXED over the segment's own range):
     * the pages stay the file's, so nothing is allocated or freed, only the virtual order changes.
     */
    private void remapInOrder(int fd, long address, long pageSize, int[] filePage) {
        for (int j = 0; j < filePage.length; j++) {
            if (filePage[j] != j) {
                sys.mmap(address + j * pageSize, pageSize, Mman.PROT_READ | Mman.PROT_WRITE,
                        Mman.MAP_SHARED | Mman.MAP_FIXED, fd, filePage[j] * pageSize);
            }
        }
    }

    private long mmapPopulated(int fd, int pages, long bytes) {
        try {
            if (options.node() != HugepageOptions.ANY_NODE) {
                return onPreferredNode(() -> sys.mmap(0, bytes, Mman.PROT_READ | Mman.PROT_WRITE,
                        Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0));
            }
            return sys.mmap(0, bytes, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        } catch (LinuxException e) {
            // A hugetlb MAP_SHARED mapping reserves its pages at mmap time: ENOMEM here means the pool
            // has too few free pages.
            if (e.errno() == Errno.ENOMEM || e.errno() == Errno.ENOSPC) {
                HugepageSize size = options.pageSize();
                throw e.withRemedy(HugepageRemedies.reserveHugepages(size, pages, sysfs.availableHugepages(size),
                        sysfs.nrHugepages(size), sysfs.nrHugepagesPath(size).toString()));
            }
            throw e;
        }
    }

    /**
     * Runs {@code populate} (the mmap that faults the pages in, on this thread) under {@code MPOL_PREFERRED} for the
     * options' node, then gives the thread its default policy back. A hugetlb fault takes the task's policy when the
     * mapping has none ({@code huge_node()}), so the pages come from that node first and from the others when it
     * has too few free: the kernel's {@code dev_to_node} preference for DMA memory, with its fallback.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/mempolicy.c">huge_node</a>
     */
    private long onPreferredNode(java.util.function.LongSupplier populate) {
        int node = options.node();
        try {
            sys.setMempolicy(Mempolicy.MPOL_PREFERRED, 1L << node);
        } catch (LinuxException e) {
            throw new IllegalArgumentException("cannot prefer NUMA node " + node + " for hugepages: " + e.getMessage()
                    + "; see /sys/devices/system/node for the nodes of this host, or use HugepageOptions.ANY_NODE", e);
        }
        try {
            return populate.getAsLong();
        } finally {
            sys.setMempolicy(Mempolicy.MPOL_DEFAULT, 0);
        }
    }

    /**
     * The node of each page of a segment (move_pages), for the allocation reports; only asked when a node was
     * (null otherwise). Issue 21: kept per page, so that a buffer's report can name the node its memory is on.
     */
    int[] pageNodesOf(long address, int pages) {
        if (options.node() == HugepageOptions.ANY_NODE) {
            return null;
        }
        long pageSize = options.pageSize().bytes();
        long[] addresses = new long[pages];
        for (int i = 0; i < pages; i++) {
            addresses[i] = address + i * pageSize;
        }
        return sys.pageNodes(addresses);
    }

    private void adviseNoDump(long address, long bytes) {
        try {
            sys.madvise(address, bytes, Mman.MADV_DONTDUMP);
        } catch (LinuxException e) {
            LOG.log(Level.DEBUG, PREFIX + "core dumps will include DMA memory: {0}", e.getMessage());
        }
    }

    private long[] translate(long address, int pages, long pageSize) {
        long[] phys = new long[pages];
        try (Pagemap pagemap = Pagemap.openSelf(sys.pageSize())) {
            for (int i = 0; i < pages; i++) {
                long cpu = address + i * pageSize;
                phys[i] = pagemap.physicalAddress(cpu);
                if (phys[i] % pageSize != 0) {
                    throw LinuxException.setup("translate hugepage " + Sizes.hex(cpu),
                            "its physical address " + Sizes.hex(phys[i]) + " is not " + options.pageSize()
                                    + " aligned, so the mapping is not backed by hugepages of that size",
                            "check that the hugetlbfs mount's pagesize matches the configured page size");
                }
            }
        }
        return phys;
    }

    private void undo(int fd, long address, long bytes, RuntimeException failure) {
        try {
            if (address != 0) {
                sys.munmap(address, bytes);
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
        try {
            sys.close(fd);
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
