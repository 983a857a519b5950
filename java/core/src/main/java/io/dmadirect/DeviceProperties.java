package io.dmadirect;

import java.util.List;
import java.util.Objects;

/**
 * What the platform knows about a device's DMA before its driver runs: what the kernel takes from
 * firmware into {@code struct device}.
 *
 * @param name            a name for messages, such as a PCI address
 * @param coherent        whether the device snoops CPU caches ({@code dev_is_dma_coherent}); false means
 *                        cache maintenance around DMA
 * @param busDmaLimit     {@code bus_dma_limit}: the highest DMA address the bus between device and memory
 *                        carries, 0 for none
 * @param dmaRanges       {@code dma_range_map}: empty when DMA addresses equal physical addresses
 * @param restrictedPool  the device may only reach a restricted bounce pool ({@code is_swiotlb_for_alloc})
 */
public record DeviceProperties(String name, boolean coherent, long busDmaLimit, List<DmaRange> dmaRanges,
        boolean restrictedPool) {

    /**
     * Checks the name and copies the ranges.
     *
     * @param name           a name for messages, such as a PCI address
     * @param coherent       whether the device snoops CPU caches
     * @param busDmaLimit    the highest DMA address the bus carries, 0 for none
     * @param dmaRanges      the dma-range map; empty when DMA addresses equal physical addresses
     * @param restrictedPool whether the device may only reach a restricted bounce pool
     */
    public DeviceProperties {
        Objects.requireNonNull(name, "name");
        dmaRanges = List.copyOf(dmaRanges);
    }

    /**
     * A coherent device with no bus limit and no offsets: the common PCIe case on x86.
     *
     * @param name a name for messages, such as a PCI address
     * @return the properties
     */
    public static DeviceProperties simple(String name) {
        return new DeviceProperties(name, true, 0, List.of(), false);
    }

    /**
     * {@return a copy with {@code coherent} set to {@code value}}
     *
     * @param value the new value
     */
    public DeviceProperties withCoherent(boolean value) {
        return new DeviceProperties(name, value, busDmaLimit, dmaRanges, restrictedPool);
    }

    /**
     * {@return a copy with {@code busDmaLimit} set to {@code value} (0 for none)}
     *
     * @param value the new value
     */
    public DeviceProperties withBusDmaLimit(long value) {
        return new DeviceProperties(name, coherent, value, dmaRanges, restrictedPool);
    }

    /**
     * {@return a copy with {@code dmaRanges} set to {@code value}}
     *
     * @param value the new value
     */
    public DeviceProperties withDmaRanges(List<DmaRange> value) {
        return new DeviceProperties(name, coherent, busDmaLimit, value, restrictedPool);
    }

    /**
     * {@return a copy with {@code restrictedPool} set to {@code value}}
     *
     * @param value the new value
     */
    public DeviceProperties withRestrictedPool(boolean value) {
        return new DeviceProperties(name, coherent, busDmaLimit, dmaRanges, value);
    }
}
