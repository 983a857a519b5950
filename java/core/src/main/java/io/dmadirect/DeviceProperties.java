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

    public DeviceProperties {
        Objects.requireNonNull(name, "name");
        dmaRanges = List.copyOf(dmaRanges);
    }

    /** A coherent device with no bus limit and no offsets: the common PCIe case on x86. */
    public static DeviceProperties simple(String name) {
        return new DeviceProperties(name, true, 0, List.of(), false);
    }

    public DeviceProperties withCoherent(boolean value) {
        return new DeviceProperties(name, value, busDmaLimit, dmaRanges, restrictedPool);
    }

    public DeviceProperties withBusDmaLimit(long value) {
        return new DeviceProperties(name, coherent, value, dmaRanges, restrictedPool);
    }

    public DeviceProperties withDmaRanges(List<DmaRange> value) {
        return new DeviceProperties(name, coherent, busDmaLimit, value, restrictedPool);
    }

    public DeviceProperties withRestrictedPool(boolean value) {
        return new DeviceProperties(name, coherent, busDmaLimit, dmaRanges, value);
    }
}
