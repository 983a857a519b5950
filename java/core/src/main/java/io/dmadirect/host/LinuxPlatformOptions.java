package io.dmadirect.host;

import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.LowMemoryQuota;

import io.dmadirect.Sizes;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.pool.AtomicPools;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.Objects;

/**
 * How a platform on a real host is set up: {@link LinuxPlatform} (and {@code LinuxPlatform.open}) in PA
 * mode, and the platform of a {@code PciSession} in either mode ({@code PciSession.open(address, options)}).
 * A PCI session in IOVA mode does not take the low-memory reserve of {@code hugepages}.
 *
 * <pre>{@code
 * LinuxPlatformOptions options = LinuxPlatformOptions.DEFAULTS
 *         .withHugepages(HugepageOptions.DEFAULTS.withInitialBytes(64 * MiB).withMaxBytes(GiB))
 *         .withLowMemory(new LowMemoryQuota(0, 8 * MiB, 0, 20 * GiB));  // 8 MiB below 4 GiB
 * try (DmaPlatform platform = LinuxPlatform.open(options)) { ... }
 * }</pre>
 *
 * @param hugepages the memory: page size, initial and maximum size, memfd or hugetlbfs, low-memory reserve
 * @param unencrypted whether device DMA must be forced unencrypted: detected (the default) or set
 * @param atomicPoolBytes first size of each zone's atomic pool; 0 for none, {@link AtomicPools#SCALED} for the
 *        kernel's default (128 KiB per GiB held, 128 KiB to 4 MiB)
 * @param atomicPoolMaxBytes how far each atomic pool may grow in the background
 * @param bounce the bounce pool (swiotlb), taken from the lowest memory when the platform opens
 * @param iommu which kernel interface a PCI session in IOVA mode maps its memory through
 * @param iommuUnmapOnFree issue 19, a debug option of IOVA mode: map memory into the IOMMU allocation by allocation
 *        and unmap it at free, so a device that still uses freed memory faults (see {@code IovaMemory}); off by
 *        default. The system property {@value #IOMMU_UNMAP_ON_FREE_PROPERTY} set to {@code true} (the agent's
 *        {@code iommuFree=true} sets it) turns it on for every session opened while it is set, whatever the
 *        options say ({@link #iommuUnmapOnFreeInEffect()}). No effect in PA mode.
 */
public record LinuxPlatformOptions(HugepageOptions hugepages, Unencrypted unencrypted, long atomicPoolBytes,
        long atomicPoolMaxBytes, SwiotlbConfig bounce, IommuInterface iommu, boolean iommuUnmapOnFree) {

    /** The system property that turns {@link #iommuUnmapOnFree()} on for every session opened while it is set. */
    public static final String IOMMU_UNMAP_ON_FREE_PROPERTY = "dmadirect.debug.iommuUnmapOnFree";

    /**
     * 64 MiB of 2 MiB hugepages growing to 1 GiB, no low-memory reserve, detection, atomic pools of the
     * kernel's default size for the memory held ({@link AtomicPools#SCALED}, growing to 4 MiB), an 8 MiB
     * bounce pool ({@link SwiotlbConfig#processDefaults()}).
     */
    public static final LinuxPlatformOptions DEFAULTS = new LinuxPlatformOptions(HugepageOptions.DEFAULTS,
            Unencrypted.DETECT, AtomicPools.SCALED, 4 * Sizes.MiB, SwiotlbConfig.processDefaults(), IommuInterface.AUTO);

    /** As the canonical constructor, with {@code iommuUnmapOnFree} off. */
    public LinuxPlatformOptions(HugepageOptions hugepages, Unencrypted unencrypted, long atomicPoolBytes,
            long atomicPoolMaxBytes, SwiotlbConfig bounce, IommuInterface iommu) {
        this(hugepages, unencrypted, atomicPoolBytes, atomicPoolMaxBytes, bounce, iommu, false);
    }

    /** Whether DMA is forced unencrypted, the kernel's {@code force_dma_unencrypted()}. */
    public enum Unencrypted {
        /** From /proc/cpuinfo: a TDX or SEV guest forces it ({@link ConfidentialComputing}). */
        DETECT,
        /** As in a confidential guest, to test a driver's behaviour there. */
        FORCE,
        /** Never, whatever the host is. */
        NEVER
    }

    /**
     * The kernel interface through which a PCI session on vfio-pci with an IOMMU maps DMA memory. Both give
     * the same IOVA mode; they differ in what the kernel must offer and in whom the pinned memory is charged to.
     */
    public enum IommuInterface {
        /**
         * iommufd when the kernel offers it for the device and this process may open it ({@code /dev/iommu} and
         * the device's cdev {@code /dev/vfio/devices/vfioN}); the VFIO type1 container otherwise.
         */
        AUTO,
        /** The VFIO type1 container ({@code /dev/vfio/vfio} and the group node {@code /dev/vfio/N}). */
        VFIO_TYPE1,
        /** iommufd with the VFIO device cdev (Linux 6.6+, CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV). */
        IOMMUFD
    }

    public LinuxPlatformOptions {
        Objects.requireNonNull(hugepages, "hugepages");
        Objects.requireNonNull(unencrypted, "unencrypted");
        Objects.requireNonNull(bounce, "bounce");
        Objects.requireNonNull(iommu, "iommu");
        if (atomicPoolBytes == AtomicPools.SCALED ? atomicPoolMaxBytes < 0
                : atomicPoolBytes < 0 || atomicPoolMaxBytes < atomicPoolBytes) {
            throw new IllegalArgumentException("need 0 <= atomicPoolBytes <= atomicPoolMaxBytes (or atomicPoolBytes "
                    + "AtomicPools.SCALED), got " + atomicPoolBytes + " and " + atomicPoolMaxBytes);
        }
    }

    public LinuxPlatformOptions withHugepages(HugepageOptions value) {
        return new LinuxPlatformOptions(value, unencrypted, atomicPoolBytes, atomicPoolMaxBytes,
                bounce, iommu, iommuUnmapOnFree);
    }

    /** The low-memory reserve, kept in the hugepage options. */
    public LinuxPlatformOptions withLowMemory(LowMemoryQuota reserve) {
        return withHugepages(hugepages.withLowMemory(reserve));
    }

    /** {@code zone_dma_bits}, kept in the hugepage options. */
    public LinuxPlatformOptions withZoneLayout(ZoneLayout layout) {
        return withHugepages(hugepages.withZoneLayout(layout));
    }

    public LinuxPlatformOptions withUnencrypted(Unencrypted value) {
        return new LinuxPlatformOptions(hugepages, value, atomicPoolBytes, atomicPoolMaxBytes,
                bounce, iommu, iommuUnmapOnFree);
    }

    public LinuxPlatformOptions withAtomicPools(long initialBytes, long maxBytes) {
        return new LinuxPlatformOptions(hugepages, unencrypted, initialBytes, maxBytes,
                bounce, iommu, iommuUnmapOnFree);
    }

    /** The bounce pool; {@link SwiotlbConfig#none()} for none. */
    public LinuxPlatformOptions withBouncePool(SwiotlbConfig value) {
        return new LinuxPlatformOptions(hugepages, unencrypted, atomicPoolBytes, atomicPoolMaxBytes,
                value, iommu, iommuUnmapOnFree);
    }

    /** The IOMMU interface of PCI sessions in IOVA mode ({@link IommuInterface#AUTO} by default). */
    public LinuxPlatformOptions withIommu(IommuInterface value) {
        return new LinuxPlatformOptions(hugepages, unencrypted, atomicPoolBytes, atomicPoolMaxBytes,
                bounce, value, iommuUnmapOnFree);
    }

    // --- issue 19 (iommufree) ---
    /** The debug option {@link #iommuUnmapOnFree()}: unmap IOVA-mode memory from the IOMMU at free. */
    public LinuxPlatformOptions withIommuUnmapOnFree(boolean value) {
        return new LinuxPlatformOptions(hugepages, unencrypted, atomicPoolBytes, atomicPoolMaxBytes,
                bounce, iommu, value);
    }

    /**
     * Whether a session opened now unmaps at free: {@link #iommuUnmapOnFree()}, or the system property
     * {@value #IOMMU_UNMAP_ON_FREE_PROPERTY}, read here rather than when the options were made, so that an agent
     * attached later ({@code iommuFree=true}) reaches options made before it, {@link #DEFAULTS} included.
     */
    public boolean iommuUnmapOnFreeInEffect() {
        return iommuUnmapOnFree || Boolean.getBoolean(IOMMU_UNMAP_ON_FREE_PROPERTY);
    }
    // --- end issue 19 ---
}
