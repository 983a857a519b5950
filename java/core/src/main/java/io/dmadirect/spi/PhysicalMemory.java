package io.dmadirect.spi;

import java.util.List;

/**
 * Pinned memory whose physical addresses are known: real hugepages on a Linux host, or the simulated
 * machine's memory. The allocators run over any implementation and never ask where it came from.
 *
 * <p>One exception: memory opened only for an IOMMU to map ({@code HugepageMemory.openForIommu}) has no
 * known physical addresses. Its runs are contiguous in the CPU's view only and {@code frameBase()} throws;
 * it is the source of an {@code IovaMemory}, whose runs carry IOVAs, and nothing else.
 */
public interface PhysicalMemory extends AutoCloseable {

    /** The unit whose physical address is known: a hugepage on a real host. A power of two, at least 4 KiB. */
    long frameSize();

    /**
     * The runs held now, in no particular order. Each is contiguous both physically and in the CPU's
     * view and is a whole number of frames; runs never overlap.
     */
    List<MemoryRun> runs();

    /**
     * How many runs {@link #runs()} would return now, without copying them: a translation that misses asks it to
     * learn whether the memory grew since its table was made, and must not pay a locked copy of the list for
     * that (issue 18). The default copies; an implementation whose {@code runs()} copies under a lock overrides it.
     */
    default int runCount() {
        return runs().size();
    }

    /**
     * Takes more memory, at least {@code minBytes} where possible, for growth on demand. Returns only
     * the new runs: empty when the configured limit is reached or the system has no more.
     */
    default List<MemoryRun> grow(long minBytes) {
        return List.of();
    }

    /**
     * Takes more memory lying wholly at or below {@code physLimit} (unsigned), at least {@code minBytes}
     * where possible, for a device whose mask needs memory of a low zone that is not held: what the kernel's
     * ZONE_DMA and ZONE_DMA32 give a driver. Bounded in time and memory; says what it tried. Returns only
     * the new runs. Memory that cannot obtain more this way (the default) returns nothing with the reason.
     */
    default LowMemoryAttempt growBelow(long physLimit, long minBytes) {
        return LowMemoryAttempt.none("this memory (" + getClass().getSimpleName() + ") cannot obtain memory below a "
                + "limit on demand");
    }

    /** The highest physical address of the whole system, not only of these runs ({@code max_pfn}). */
    long systemMaxPhysAddress();

    /**
     * Issue 21: the NUMA node of the memory at {@code cpuAddress}, when this memory knows it (hugepages taken for
     * a device on a NUMA host); empty otherwise (the default), which the allocation report then leaves out.
     */
    default java.util.OptionalInt numaNodeOf(long cpuAddress) {
        return java.util.OptionalInt.empty();
    }

    /** Issue 21: the node this memory was asked from (the device's, as {@code dev_to_node}); empty for any node. */
    default java.util.OptionalInt preferredNumaNode() {
        return java.util.OptionalInt.empty();
    }

    /**
     * Whether the addresses of this memory are IOVAs mapped through an IOMMU (IOVA mode) rather than physical
     * addresses; {@code dma_map_resource()} of a physical address is possible only when they are not.
     *
     * @return false unless the memory is mapped through an IOMMU
     */
    default boolean iommuTranslated() {
        return false;
    }

    /** Gives all memory back. Nothing may use the runs afterwards. */
    @Override
    void close();
}
