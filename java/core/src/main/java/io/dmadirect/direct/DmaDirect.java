package io.dmadirect.direct;

import io.dmadirect.Addresses;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaRange;
import io.dmadirect.Zone;
import io.dmadirect.spi.ZoneLayout;
import java.util.List;

/**
 * The predicates of {@code kernel/dma/direct.c} and {@code include/linux/dma-direct.h}, as pure
 * functions of a {@link DeviceDma}. Hold direct.c beside this file: each method names the kernel
 * function it follows, and keeps its order of checks.
 *
 * <p>All addresses and masks are unsigned 64-bit values.
 */
public final class DmaDirect {

    /**
     * {@code DMA_MAPPING_ERROR}: what address translation returns for memory the device cannot see; the
     * same value as {@link Addresses#NONE}, named as in the kernel because mapping code compares against it.
     */
    public static final long DMA_MAPPING_ERROR = Addresses.NONE;

    private DmaDirect() {
    }

    /** {@code min_not_zero(a, b)} on unsigned values: a zero limit means "no limit". */
    public static long minNotZero(long a, long b) {
        if (a == 0) {
            return b;
        }
        if (b == 0) {
            return a;
        }
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    /**
     * The device's addressing limit for coherent memory: {@code min_not_zero(coherent_dma_mask, bus_dma_limit)}.
     */
    public static long coherentLimit(DeviceDma dev) {
        return minNotZero(dev.coherentMask().value(), dev.busDmaLimit());
    }

    /** The same for streaming DMA: {@code min_not_zero(*dev->dma_mask, bus_dma_limit)}. */
    public static long streamingLimit(DeviceDma dev) {
        return minNotZero(dev.dmaMask().value(), dev.busDmaLimit());
    }

    /**
     * {@code phys_to_dma_unencrypted()}: the physical address as the device sees it through its
     * dma-range map, with no encryption bit.
     *
     * @return the DMA address, or {@link #DMA_MAPPING_ERROR} when no range covers {@code phys}
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-direct.h">translate_phys_to_dma</a>
     */
    public static long physToDmaUnencrypted(DeviceDma dev, long phys) {
        List<DmaRange> ranges = dev.ranges();
        if (ranges.isEmpty()) {
            return phys;
        }
        for (DmaRange m : ranges) {
            if (Long.compareUnsigned(phys, m.cpuStart()) >= 0
                    && Long.compareUnsigned(phys - m.cpuStart(), m.size()) < 0) {
                return phys + m.offset();
            }
        }
        return DMA_MAPPING_ERROR;
    }

    /**
     * {@code phys_to_dma()}: {@code __sme_set(phys_to_dma_unencrypted())}, the encryption bit added as
     * AMD SME requires for encrypted memory.
     */
    public static long physToDma(DeviceDma dev, long phys) {
        long dma = physToDmaUnencrypted(dev, phys);
        return dma == DMA_MAPPING_ERROR ? dma : dma | dev.encryptionMask();
    }

    /**
     * {@code dma_to_phys()}: back from the device's view, the encryption bit cleared.
     *
     * @return the physical address, or {@link Addresses#NONE} (the kernel's {@code PHYS_ADDR_MAX}) when no range
     *         covers {@code dma}
     */
    public static long dmaToPhys(DeviceDma dev, long dma) {
        long clear = dma & ~dev.encryptionMask();
        List<DmaRange> ranges = dev.ranges();
        if (ranges.isEmpty()) {
            return clear;
        }
        for (DmaRange m : ranges) {
            if (Long.compareUnsigned(clear, m.dmaStart()) >= 0
                    && Long.compareUnsigned(clear - m.dmaStart(), m.size()) < 0) {
                return clear - m.offset();
            }
        }
        return Addresses.NONE;
    }

    /**
     * {@code force_dma_unencrypted()} as on x86: every device of a confidential guest, and under host
     * SME every device whose limit cannot carry the encryption bit.
     */
    public static boolean forceUnencrypted(DeviceDma dev) {
        if (dev.guestMemEncrypt()) {
            return true;
        }
        if (dev.encryptionMask() != 0) {
            long encryptionBitMask = DmaMask.bits(Math.max(1, Long.numberOfTrailingZeros(dev.encryptionMask()))).value();
            return Long.compareUnsigned(coherentLimit(dev), encryptionBitMask) <= 0;
        }
        return false;
    }

    /**
     * {@code phys_to_dma_direct()}: memory a forced-unencrypted device reaches is shared, so its DMA
     * address carries no encryption bit.
     */
    public static long physToDmaDirect(DeviceDma dev, long phys) {
        return physToDmaDirect(dev, phys, forceUnencrypted(dev));
    }

    /** {@link #physToDmaDirect(DeviceDma, long)} with {@code force_dma_unencrypted()} already decided. */
    static long physToDmaDirect(DeviceDma dev, long phys, boolean forceUnencrypted) {
        return forceUnencrypted ? physToDmaUnencrypted(dev, phys) : physToDma(dev, phys);
    }

    /**
     * {@code dma_coherent_ok()}: the whole buffer, as the device addresses it, lies within
     * {@code min_not_zero(coherent_dma_mask, bus_dma_limit)}. The check is on the DMA address after the
     * dma-range offset, never on the physical or virtual one.
     */
    public static boolean coherentOk(DeviceDma dev, long phys, long size) {
        return withinLimit(physToDmaDirect(dev, phys), size, coherentLimit(dev));
    }

    /** The comparison of {@code dma_coherent_ok()}, for callers that hold the DMA address and limit already. */
    static boolean withinLimit(long dma, long size, long limit) {
        if (dma == DMA_MAPPING_ERROR) {
            return false;
        }
        long last = dma + size - 1;
        if (Long.compareUnsigned(last, dma) < 0) {
            return false;
        }
        return Long.compareUnsigned(last, limit) <= 0;
    }

    /**
     * {@code dma_capable()}: the same check against the streaming mask, for {@code dma_map_*}.
     */
    public static boolean capable(DeviceDma dev, long dma, long size) {
        return withinStreamingLimit(dma, size, streamingLimit(dev));
    }

    /** {@link #capable} against a limit computed once ({@code DevicePolicy} caches it per mask). */
    static boolean withinStreamingLimit(long dma, long size, long limit) {
        if (dma == DMA_MAPPING_ERROR) {
            return false;
        }
        long last = dma + size - 1;
        if (size != 0 && Long.compareUnsigned(last, dma) < 0) {
            return false;
        }
        return Long.compareUnsigned(size == 0 ? dma : last, limit) <= 0;
    }

    /**
     * The zone to try first and the physical limit it was chosen from.
     *
     * @param zone       the first zone to allocate from
     * @param physLimit  {@code dma_to_phys(min_not_zero(mask, bus_dma_limit))}, unsigned
     */
    public record ZoneChoice(Zone zone, long physLimit) {
    }

    /**
     * {@code dma_direct_optimal_gfp_mask()}: optimistically try the zone that the physical address
     * limit falls into first. If that returns memory the device cannot address, the caller falls back
     * to the next lower zone and tries again.
     */
    public static ZoneChoice optimalZone(DeviceDma dev, ZoneLayout zones) {
        long physLimit = dmaToPhys(dev, coherentLimit(dev));
        if (Long.compareUnsigned(physLimit, zones.zoneDmaLimit()) <= 0) {
            return new ZoneChoice(Zone.DMA, physLimit);
        }
        if (Long.compareUnsigned(physLimit, zones.limit(Zone.DMA32)) <= 0) {
            return new ZoneChoice(Zone.DMA32, physLimit);
        }
        return new ZoneChoice(Zone.NORMAL, physLimit);
    }

    /**
     * {@code dma_direct_get_required_mask()}: the smallest {@code 2^n - 1} that covers the DMA address
     * of the highest physical address of the system.
     *
     * @param maxPhys the last physical address of system RAM ({@code (max_pfn - 1) << PAGE_SHIFT} in the kernel)
     */
    public static DmaMask requiredMask(DeviceDma dev, long maxPhys) {
        long maxDma = physToDmaDirect(dev, maxPhys);
        if (maxDma == DMA_MAPPING_ERROR || maxDma == 0) {
            return maxDma == 0 ? DmaMask.bits(1) : DmaMask.BITS_64;
        }
        return DmaMask.bits(64 - Long.numberOfLeadingZeros(maxDma));
    }

    /**
     * {@code dma_direct_supported()}, adapted to memory that is a sample of the machine's: a mask is
     * supported when some memory the platform holds for devices, as the device addresses it, lies within it.
     *
     * <p>The kernel accepts every mask of 32 bits or more without looking, because a kernel owns
     * ZONE_DMA32. A userspace process holds only the hugepages it was given, which may all lie above
     * 4 GiB, so here the check always compares against the memory actually held; like the kernel it
     * compares the unencrypted address, since the encryption bit is not part of what the mask must reach.
     * The floor is found in DMA addresses ({@link #lowestReachableEnd}), not by translating the lowest
     * physical frame: a device whose dma-ranges cover only part of memory can still use the part they
     * cover, and that is what allocation delivers.
     *
     * @param lowestDmaEnd the DMA address of the last byte of the lowest memory the device reaches, or
     *                     {@link #DMA_MAPPING_ERROR} when it reaches none
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_supported</a>
     */
    public static boolean supported(DmaMask mask, long lowestDmaEnd) {
        if (lowestDmaEnd == DMA_MAPPING_ERROR) {
            return false;
        }
        return Long.compareUnsigned(mask.value(), lowestDmaEnd) >= 0;
    }

    /**
     * The floor {@link #supported} compares a mask with, for one run of held memory: the unencrypted DMA
     * address of the last byte of the lowest whole frame of {@code [runBase, runBase + runSize)} that one of
     * the device's dma-ranges covers. Frames are the unit memory is held and classified in, so a frame only
     * partly inside a range does not count.
     *
     * @return that DMA address, or {@link #DMA_MAPPING_ERROR} when no whole frame of the run is covered
     */
    public static long lowestReachableEnd(DeviceDma dev, long runBase, long runSize, long frameSize) {
        long runLast = runBase + runSize - 1;
        if (dev.ranges().isEmpty()) {
            return runBase + frameSize - 1;
        }
        long lowest = DMA_MAPPING_ERROR;
        for (DmaRange m : dev.ranges()) {
            long rangeLast = m.cpuStart() + m.size() - 1;
            long from = Long.compareUnsigned(m.cpuStart(), runBase) > 0 ? m.cpuStart() : runBase;
            long frames = Long.divideUnsigned(from - runBase + frameSize - 1, frameSize);
            long frameLast = runBase + frames * frameSize + frameSize - 1;
            if (Long.compareUnsigned(frameLast, runBase) < 0 || Long.compareUnsigned(frameLast, runLast) > 0
                    || Long.compareUnsigned(frameLast, rangeLast) > 0) {
                continue;
            }
            long dma = frameLast + m.offset();
            lowest = Long.compareUnsigned(dma, lowest) < 0 ? dma : lowest;
        }
        return lowest;
    }

    /**
     * {@code dma_direct_use_pool()} with the condition of {@code dma_direct_alloc()} around it:
     * remapping (for a non-coherent device) or decrypting memory may block, so a caller that cannot
     * block takes memory from the atomic pools, which were remapped and decrypted in advance.
     */
    public static boolean allocFromPool(DeviceDma dev, boolean mayBlock) {
        boolean remap = !dev.coherent();
        return (remap || forceUnencrypted(dev)) && usePool(dev, mayBlock);
    }

    /**
     * The pool condition of {@code dma_direct_alloc_pages()}: pages are never remapped, so only memory that must be
     * decrypted (which may block) sends a caller that cannot block to the atomic pools.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_alloc_pages</a>
     */
    public static boolean allocPagesFromPool(DeviceDma dev, boolean mayBlock) {
        return forceUnencrypted(dev) && usePool(dev, mayBlock);
    }

    /**
     * {@code dma_direct_use_pool()}: a caller that cannot block, for a device not served by a restricted pool.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_use_pool</a>
     */
    static boolean usePool(DeviceDma dev, boolean mayBlock) {
        return !mayBlock && !dev.restrictedPool();
    }

    /**
     * The {@code DMA_ATTR_NO_KERNEL_MAPPING} branch of {@code dma_direct_alloc()}: only when the memory
     * needs no decryption and does not come from a restricted pool.
     */
    public static boolean allocNoMapping(DeviceDma dev, boolean noKernelMapping) {
        return noKernelMapping && !forceUnencrypted(dev) && !dev.restrictedPool();
    }

    /**
     * Rounds a requested size up to whole pages ({@code PAGE_ALIGN}).
     *
     * @throws IllegalArgumentException for a size below 1 or one that overflows when rounded
     */
    public static long pageAlign(long size, long pageSize) {
        if (size <= 0) {
            throw new IllegalArgumentException("failed to allocate DMA memory: size must be at least 1 byte, got " + size);
        }
        long aligned = (size + pageSize - 1) & -pageSize;
        if (aligned <= 0) {
            throw new IllegalArgumentException("failed to allocate DMA memory: size " + size + " overflows when rounded up to pages");
        }
        return aligned;
    }
}
