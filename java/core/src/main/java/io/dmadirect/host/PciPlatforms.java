package io.dmadirect.host;

import io.dmadirect.spi.IommuDomain;

import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.iova.CpuViews;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.spi.PhysicalMemory;
import io.dmadirect.spi.SwiotlbConfig;

/**
 * The dma-direct platform over the memory of each address mode. PA mode: hugepages by physical address.
 * IOVA mode: the same hugepages by the IOVAs of an {@link IovaMemory}. The parts are those of every Linux
 * platform ({@link LinuxPlatformParts}), so a confidential guest is detected (or forced, or ignored, as
 * {@link LinuxPlatformOptions#unencrypted()} says) and refuses device allocations with its reason here as
 * it does for {@code LinuxPlatform.open}.
 */
public final class PciPlatforms {
    /**
     * Extra bounce pools ({@code SWIOTLB_DYNAMIC}) a device may take below its own limit. The default pool is
     * taken from ZONE_DMA32, wherever the hugepage source has memory there: in PA mode that is any physical
     * address below 4 GiB (the rig's 1 GiB no-IOMMU guest got 0x28800000), out of reach of a 28-bit device
     * such as edu, whose heap mappings then all failed. IOVA mode places low IOVAs first and needs none.
     */
    private static final long DYNAMIC_POOLS_MAX = 8 * Sizes.MiB;

    private PciPlatforms() {
    }

    /**
     * The bounce pool of a PCI platform: the process default, plus up to 8 MiB of extra pools taken
     * below a device's limit on demand. In PA mode the default pool may lie beyond a narrow device's
     * reach (in the rig's 1 GiB guest it landed at 0x28800000, beyond the edu's 28 bits).
     */
    public static SwiotlbConfig defaultBounce() {
        return SwiotlbConfig.processDefaults().withDynamicMax(DYNAMIC_POOLS_MAX);
    }

    /**
     * What a PCI session runs with unless told otherwise: {@link LinuxPlatformOptions#DEFAULTS} (confidential
     * computing detected, atomic pools of the kernel's size for the memory held) with {@link #defaultBounce()}.
     */
    public static LinuxPlatformOptions defaults() {
        return LinuxPlatformOptions.DEFAULTS.withBouncePool(defaultBounce());
    }

    /**
     * A platform over memory whose "physical" addresses are what the device uses (pagemap PAs, or IOVAs),
     * set up as {@code options} say: zones from its hugepage options, pools, bounce pool, and whether DMA is
     * forced unencrypted.
     */
    static DirectPlatform over(String name, PhysicalMemory memory, LinuxPlatformOptions options) {
        ConfidentialComputing.Status cc = ConfidentialComputing.resolve(options.unencrypted());
        return new DirectPlatform(LinuxPlatformParts.of(name, memory, options, cc));
    }

    /** IOVA mode: maps {@code memory} into {@code iommu} (see {@link IovaMemory}) and builds the platform over the IOVAs. */
    public static DirectPlatform iova(String name, PhysicalMemory memory, IommuDomain iommu, CpuViews views,
            LinuxPlatformOptions options) {
        IovaMemory iovaMemory = IovaMemory.map(memory, iommu, options.hugepages().zoneLayout(), views,
                options.iommuUnmapOnFreeInEffect());
        try {
            return over(name, iovaMemory, options);
        } catch (RuntimeException e) {
            iovaMemory.close();
            throw e;
        }
    }
}
