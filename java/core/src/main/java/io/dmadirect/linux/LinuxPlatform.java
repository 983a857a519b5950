package io.dmadirect.linux;

import io.dmadirect.DmaPlatform;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.direct.ForwardingPlatform;
import io.dmadirect.linux.bridge.CacheMaintenanceBridge;
import io.dmadirect.direct.PlatformParts;
import io.dmadirect.linux.headers.Capability;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import java.lang.System.Logger.Level;

/**
 * The real platform of a Linux host in PA mode: the dma-direct policy over this host's hugepages, whose
 * DMA addresses are their physical addresses from pagemap. Open it with {@code DmaPlatform.openLinux}.
 *
 * <p>What is wired, and from where:
 * <ul>
 *   <li>memory: {@link HugepageMemory} (memfd hugetlb, locked, pagemap read once per page), with the
 *       low-memory reserve for devices with 32-bit or smaller masks;</li>
 *   <li>{@link #requiredMask()}: from the highest physical address of RAM ({@link SystemMemoryMap});</li>
 *   <li>forced-unencrypted DMA: detected from /proc/cpuinfo ({@link ConfidentialComputing}). In a
 *       confidential guest allocations for devices then fail with the reason, since a process cannot make
 *       pages shared ({@link LinuxEncryption});</li>
 *   <li>cache maintenance: none beyond fences, as x86 PCIe devices snoop caches.</li>
 * </ul>
 *
 * <p>Needs root (CAP_SYS_ADMIN) for pagemap, and reserved hugepages; each failure names its remedy.
 */
public final class LinuxPlatform extends ForwardingPlatform {
    private static final System.Logger LOG = System.getLogger(LinuxPlatform.class.getName());
    private static final String PREFIX = "linux/platform: ";

    private final HugepageMemory memory;
    private final ConfidentialComputing.Status confidential;

    private LinuxPlatform(DirectPlatform direct, HugepageMemory memory, ConfidentialComputing.Status confidential) {
        super(direct);
        this.memory = memory;
        this.confidential = confidential;
    }

    /** Opens the platform on this host through the real system calls. */
    public static LinuxPlatform open(LinuxPlatformOptions options) {
        requirePhysicalAddresses(ProcessCapabilities.current());
        ConfidentialComputing.Status cc = confidential(options.unencrypted());
        HugepageMemory memory = HugepageMemory.open(options.hugepages());
        try {
            PageAllocator pages = PageAllocators.standard(memory, options.hugepages().zoneLayout());
            LinuxEncryption encryption = new LinuxEncryption(cc.forceUnencrypted(), cc.technology());
            PlatformParts parts = new PlatformParts("linux", memory, pages, options.hugepages().zoneLayout(),
                    encryption, cc.forceUnencrypted(), CacheMaintenanceBridge.load(), null,
                    cc.forceUnencrypted() ? 0 : options.atomicPoolBytes(), options.atomicPoolMaxBytes(), options.bounce());
            if (cc.forceUnencrypted()) {
                LOG.log(Level.WARNING, PREFIX + encryption.reason());
            }
            return new LinuxPlatform(new DirectPlatform(parts), memory, cc);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** PA mode needs what pagemap shows only to CAP_SYS_ADMIN: say so before touching any hugepage. */
    static void requirePhysicalAddresses(ProcessCapabilities caps) {
        if (!caps.has(Capability.CAP_SYS_ADMIN)) {
            throw LinuxException.setup("open the Linux platform in PA mode",
                    "this process lacks CAP_SYS_ADMIN, so /proc/self/pagemap shows PFN 0 instead of physical "
                            + "addresses", Remedies.notRoot());
        }
    }

    static ConfidentialComputing.Status confidential(LinuxPlatformOptions.Unencrypted mode) {
        switch (mode) {
            case FORCE:
                return new ConfidentialComputing.Status("forced by the options", true);
            case NEVER:
                return ConfidentialComputing.Status.NONE;
            default:
                return ConfidentialComputing.detect();
        }
    }

    /**
     * The DMA address of a CPU virtual address in this platform's memory, by table lookup (no system call,
     * no allocation): the physical address, which is the DMA address in PA mode for a device without
     * dma-range offsets, as every PCI device on x86. {@link HugepageMemory#NO_ADDRESS} when the address is
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
