package io.dmadirect.direct;

import static io.dmadirect.Sizes.format;
import static io.dmadirect.Sizes.hex;

/**
 * The segment limits of {@code struct device_dma_parameters} as a scatter-gather mapping meets them:
 * {@code max_segment_size} and {@code segment_boundary_mask}.
 *
 * <p>The kernel's {@code dma_direct_map_sg()} maps each segment as it is, and only dma-debug's
 * {@code check_sg_segment()} reports one longer than the maximum or crossing the boundary: without
 * dma-debug the device gets a segment it cannot take. Here such a segment is refused with a
 * {@link io.dmadirect.DmaMappingException} instead (docs/kernel-map.md, "Where dmadirect differs"): a
 * driver splits its buffers, as the block layer does from the same two limits. A bounced segment never
 * crosses the boundary, because the swiotlb places it within one.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/debug.c">check_sg_segment</a>
 */
final class SegmentLimits {
    /** {@code dma_get_max_seg_size()} of a PCI device: {@code pci_device_add()} sets 64 KiB. */
    static final long DEFAULT_MAX_SEG_SIZE = 65536;

    private SegmentLimits() {
    }

    /** Why a segment of {@code length} bytes is longer than {@code maxSegSize}, or null when it is not. */
    static String tooLong(long length, long maxSegSize) {
        if (length <= maxSegSize) {
            return null;
        }
        return "the segment of " + format(length) + " is longer than the device's maximum segment size "
                + format(maxSegSize) + " (dma_get_max_seg_size). Split it, or raise the limit with setMaxSegSize "
                + "if the device takes longer segments";
    }

    /**
     * Why {@code [dma, dma + length)} crosses a multiple of {@code boundaryMask + 1}, or null when it does not
     * ({@code boundaryMask} -1: no boundary).
     */
    static String crossesBoundary(long dma, long length, long boundaryMask) {
        if (boundaryMask == -1L || ((dma ^ (dma + length - 1)) & ~boundaryMask) == 0) {
            return null;
        }
        return "the segment at DMA " + hex(dma) + " of " + format(length) + " crosses the device's segment boundary "
                + "(a multiple of " + hex(boundaryMask + 1) + ", dma_get_seg_boundary). Split it at the boundary, "
                + "or place the buffer so that it does not cross one";
    }
}
