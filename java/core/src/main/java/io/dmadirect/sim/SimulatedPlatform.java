package io.dmadirect.sim;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.Sizes;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.direct.ForwardingPlatform;
import io.dmadirect.direct.PlatformParts;
import io.dmadirect.direct.SwiotlbAllocator;
import io.dmadirect.iova.IovaMemory;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.memory.PageAllocators;
import io.dmadirect.spi.PhysicalMemory;
import io.dmadirect.spi.ZoneLayout;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * A machine in memory: a configurable physical memory map (zones, holes, any frame size), memory
 * encryption, cache maintenance that can be watched, and devices whose DMA engines truncate addresses
 * like real hardware. The dma-direct policy runs on it unchanged, so drivers can be tested without
 * hardware. Every simulated byte is real off-heap memory.
 *
 * <pre>{@code
 * try (SimulatedPlatform platform = SimulatedPlatform.builder()
 *         .region(0x0, 16 * MiB)                // ZONE_DMA
 *         .region(0x4000_0000L, 64 * MiB)       // ZONE_DMA32, after a hole
 *         .build()) {
 *     DmaDevice device = platform.attach(DeviceProperties.simple("nic0"));
 *     ...
 * }
 * }</pre>
 */
public final class SimulatedPlatform extends ForwardingPlatform {
    private final SimulatedMemory memory;
    private final SimulatedEncryption encryption;
    private final RecordingCaches caches;
    private final SimulatedIommu iommu;

    private SimulatedPlatform(Builder builder, SimulatedMemory memory, SimulatedEncryption encryption,
            RecordingCaches caches) {
        super(directPlatform(builder, memory, encryption, caches));
        this.iommu = builder.iommu;
        this.memory = memory;
        this.encryption = encryption;
        this.caches = caches;
    }

    private static SimulatedPlatform create(Builder builder) {
        SimulatedMemory memory = new SimulatedMemory(builder.frameSize, builder.regions, builder.systemMaxPhys);
        for (long[] region : builder.obtainable) {
            memory.addObtainable(region[0], region[1]);
        }
        return new SimulatedPlatform(builder, memory,
                new SimulatedEncryption(builder.encryptionMask, builder.confidentialGuest), new RecordingCaches());
    }

    private static DirectPlatform directPlatform(Builder builder, SimulatedMemory memory, SimulatedEncryption encryption,
            RecordingCaches caches) {
        ZoneLayout zones = new ZoneLayout(builder.zoneDmaBits);
        // IOVA mode: the policy allocates IOVAs the simulated IOMMU translates, as on a VFIO type1 host.
        IovaMemory iova = builder.iommu == null ? null
                : IovaMemory.map(memory, builder.iommu, zones, null, builder.iommuUnmapOnFree);
        PhysicalMemory dmaMemory = iova == null ? memory : iova;
        PageAllocator pages = iova == null ? builder.pageAllocator.apply(memory, zones)
                : iova.pagesOver(PageAllocators.standard(dmaMemory, zones));
        return new DirectPlatform(new PlatformParts(builder.name, dmaMemory, pages, zones, encryption,
                builder.confidentialGuest, caches, builder.swiotlb, builder.atomicPoolBytes, builder.atomicPoolMaxBytes,
                builder.bounce));
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The DMA engine of a device whose hardware drives {@code addressBits} address lines (28 for QEMU's
     * edu device), whatever mask its driver sets.
     */
    public SimulatedBusMaster busMaster(DmaDevice device, int addressBits) {
        return new SimulatedBusMaster(memory, encryption, iommu, device.properties(), addressBits);
    }

    public void drainThreadCaches() {
        direct.drainThreadCaches();
    }

    public long leakedBytes() {
        return direct.leakedBytes();
    }

    /** Bounce-pool slots (2 KiB each) in use now: streaming mappings that bounced and are still mapped. */
    public long bounceSlotsInUse() {
        return direct.swiotlb() == null ? 0 : direct.swiotlb().usedSlots();
    }

    /** The IOMMU the devices' DMA goes through ({@link Builder#iommu}), if any. */
    public java.util.Optional<SimulatedIommu> iommu() {
        return java.util.Optional.ofNullable(iommu);
    }

    public SimulatedMemory memory() {
        return memory;
    }

    public SimulatedEncryption encryption() {
        return encryption;
    }

    public RecordingCaches caches() {
        return caches;
    }

    @Override
    public String toString() {
        return direct.toString();
    }

    /**
     * Describes the simulated machine. Defaults: 2 MiB frames, zone_dma_bits 24, 256 KiB atomic pools, and a
     * 4 MiB bounce pool ({@link #DEFAULT_BOUNCE_BYTES}): the kernel's 64 MiB would take most of the small
     * machines tests describe.
     */
    public static final class Builder {
        /** The simulated machine's bounce pool size unless {@link #bouncePool} says otherwise. */
        public static final long DEFAULT_BOUNCE_BYTES = 4 * Sizes.MiB;

        private String name = "simulated";
        private long frameSize = 2 * Sizes.MiB;
        private final List<long[]> regions = new ArrayList<>();
        private final List<long[]> obtainable = new ArrayList<>();
        private long systemMaxPhys = -1L;
        private int zoneDmaBits = ZoneLayout.DEFAULT_ZONE_DMA_BITS;
        private long encryptionMask;
        private boolean confidentialGuest;
        private long atomicPoolBytes = 256 * Sizes.KiB;
        private long atomicPoolMaxBytes = 4 * Sizes.MiB;
        private SwiotlbAllocator swiotlb;
        private SwiotlbConfig bounce = SwiotlbConfig.defaults().withBytes(DEFAULT_BOUNCE_BYTES);
        private BiFunction<SimulatedMemory, ZoneLayout, PageAllocator> pageAllocator = PageAllocators::standard;
        private SimulatedIommu iommu;
        private boolean iommuUnmapOnFree;

        private Builder() {
        }

        public Builder name(String value) {
            this.name = Objects.requireNonNull(value);
            return this;
        }

        /** The page size whose physical address is known: 2 MiB hugepages by default. */
        public Builder frameSize(long value) {
            this.frameSize = value;
            return this;
        }

        /** Memory the platform holds at physical {@code [base, base + size)}; leave gaps for holes. */
        public Builder region(long base, long size) {
            regions.add(new long[] {base, size});
            return this;
        }

        /**
         * Memory the machine has free at physical {@code [base, base + size)} that the platform does not hold:
         * low memory on demand takes it when a device's mask needs it, as the kernel's ZONE_DMA and ZONE_DMA32
         * serve a driver. A machine without any has none to give.
         */
        public Builder obtainable(long base, long size) {
            obtainable.add(new long[] {base, size});
            return this;
        }

        /** The last physical address of the machine's RAM, beyond the memory held ({@code max_pfn}). */
        public Builder systemMaxPhys(long value) {
            this.systemMaxPhys = value;
            return this;
        }

        /** {@code zone_dma_bits}: where ZONE_DMA ends. */
        public Builder zoneDmaBits(int value) {
            this.zoneDmaBits = value;
            return this;
        }

        /** The SME encryption bit(s) in DMA addresses of encrypted memory, e.g. {@code 1L << 47}. */
        public Builder encryptionMask(long value) {
            this.encryptionMask = value;
            return this;
        }

        /** A confidential VM guest: every device's DMA is forced unencrypted. */
        public Builder confidentialGuest(boolean value) {
            this.confidentialGuest = value;
            return this;
        }

        /** Each zone's atomic pool: first size and the most it grows to; 0 for none. */
        public Builder atomicPools(long initialBytes, long maxBytes) {
            this.atomicPoolBytes = initialBytes;
            this.atomicPoolMaxBytes = maxBytes;
            return this;
        }

        /** A coherent allocator for restricted devices in place of the bounce pool. */
        public Builder swiotlb(SwiotlbAllocator value) {
            this.swiotlb = value;
            return this;
        }

        /** The bounce pool (swiotlb) taken from the lowest memory when the platform is built; {@link SwiotlbConfig#none()} for none. */
        public Builder bouncePool(SwiotlbConfig value) {
            this.bounce = Objects.requireNonNull(value);
            return this;
        }

        /** {@code swiotlb=force}: every streaming mapping bounces. */
        public Builder forceBounce(boolean value) {
            this.bounce = bounce.withForce(value);
            return this;
        }

        /** Replaces the page allocator, for comparing implementations. */
        public Builder pageAllocator(BiFunction<SimulatedMemory, ZoneLayout, PageAllocator> factory) {
            this.pageAllocator = Objects.requireNonNull(factory);
            return this;
        }

        /**
         * IOVA mode: all memory is mapped through {@code value} (for example
         * {@link SimulatedIommu#likeIntelIommu()}) and DMA addresses are IOVAs placed below each device's mask,
         * as on a host with VFIO type1; bus masters translate through it. Replaces {@link #pageAllocator}.
         */
        public Builder iommu(SimulatedIommu value) {
            this.iommu = Objects.requireNonNull(value);
            return this;
        }

        /**
         * Issue 19, the debug option {@code iommuUnmapOnFree} of IOVA mode (with {@link #iommu}): memory is mapped
         * allocation by allocation and unmapped at free, so a bus master that reaches freed memory faults.
         */
        public Builder iommuUnmapOnFree(boolean value) {
            this.iommuUnmapOnFree = value;
            return this;
        }

        public SimulatedPlatform build() {
            return create(this);
        }
    }
}
