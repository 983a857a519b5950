package io.dmadirect.host;

import io.dmadirect.Addresses;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.hugepages.HugepageMemory;
import io.dmadirect.linux.hugepages.LowMemoryReport;
import io.dmadirect.linux.hugepages.PagemapAccess;
import io.dmadirect.linux.hugepages.SystemMemoryMap;

import io.dmadirect.DmaPlatform;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.direct.ForwardingPlatform;

/**
 * The real platform of a Linux host in PA mode: the dma-direct policy over this host's hugepages, whose
 * DMA addresses are their physical addresses from pagemap. Open it with {@code LinuxPlatform.open}.
 *
 * <p>What is wired, and from where:
 * <ul>
 *   <li>memory: {@link HugepageMemory} (memfd hugetlb, locked, pagemap read once per page), with the
 *       low-memory reserve for devices with 32-bit or smaller masks;</li>
 *   <li>{@link #requiredMask()}: from the highest physical address of RAM ({@link SystemMemoryMap});</li>
 *   <li>forced-unencrypted DMA: detected from /proc/cpuinfo ({@link ConfidentialComputing}). In a
 *       confidential guest allocations for devices then fail with the reason, since a process cannot make
 *       pages shared ({@link LinuxEncryption}); the parts are those of every Linux platform
 *       ({@link LinuxPlatformParts}), PCI sessions included;</li>
 *   <li>cache maintenance: none beyond fences, as x86 PCIe devices snoop caches.</li>
 * </ul>
 *
 * <p>Needs root (CAP_SYS_ADMIN) for pagemap, checked before any hugepage is touched ({@link PagemapAccess}),
 * and reserved hugepages; each failure names its remedy.
 */
public final class LinuxPlatform extends ForwardingPlatform {

    private final HugepageMemory memory;
    private final ConfidentialComputing.Status confidential;

    private LinuxPlatform(DirectPlatform direct, HugepageMemory memory, ConfidentialComputing.Status confidential) {
        super(direct);
        this.memory = memory;
        this.confidential = confidential;
    }

    /** Opens the platform on this host through the real system calls. */
    public static LinuxPlatform open(LinuxPlatformOptions options) {
        PagemapAccess.require(ProcessCapabilities.current(), "open the Linux platform in PA mode");
        ConfidentialComputing.Status cc = ConfidentialComputing.resolve(options.unencrypted());
        HugepageMemory memory = HugepageMemory.open(options.hugepages());
        try {
            return new LinuxPlatform(new DirectPlatform(LinuxPlatformParts.of("linux", memory, options, cc)), memory, cc);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /**
     * The DMA address of a CPU virtual address in this platform's memory, by table lookup (no system call,
     * no allocation): the physical address, which is the DMA address in PA mode for a device without
     * dma-range offsets, as every PCI device on x86. {@link Addresses#NONE} when the address is
     * not this platform's memory.
     */
    public long dmaAddress(long cpuAddress) {
        return memory.physAddress(cpuAddress);
    }

    /** The hugepages underneath: runs, growth, the low-memory report. */
    public HugepageMemory memory() {
        return memory;
    }

    /** What the low-memory reserve obtained at open. */
    public LowMemoryReport lowMemoryReport() {
        return memory.lowMemoryReport();
    }

    /** The confidential-computing status the platform runs with. */
    public ConfidentialComputing.Status confidentialComputing() {
        return confidential;
    }

    @Override
    public String toString() {
        return direct + " over " + memory.runs().size() + " hugepage runs";
    }
}
