package io.dmadirect.linux.vfio;

import io.dmadirect.spi.IovaRange;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code VFIO_IOMMU_GET_INFO} tells about a type1 container: page sizes, the valid IOVA ranges
 * ({@code VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE}) and how many more mappings are allowed
 * ({@code VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL}).
 *
 * @param dmaAvailable {@link Long#MAX_VALUE} when the kernel did not report it
 */
public record Type1Info(long pageSizes, List<IovaRange> validRanges, long dmaAvailable) {

    /**
     * Parses {@code struct vfio_iommu_type1_info} (argsz, flags, iova_pgsizes, cap_offset, pad) and its
     * capability chain (each {@code struct vfio_info_cap_header}: id u16, version u16, next u32).
     */
    static Type1Info parse(ByteBuffer info) {
        int flags = info.getInt(4);
        long pageSizes = info.getLong(8);
        List<IovaRange> ranges = new ArrayList<>();
        long avail = Long.MAX_VALUE;
        int next = (flags & VfioUapi.VFIO_IOMMU_INFO_CAPS) != 0 ? info.getInt(16) : 0;
        int hops = 0;
        while (next != 0) {
            if (next < VfioUapi.SIZEOF_IOMMU_TYPE1_INFO || next + 8 > info.capacity() || ++hops > 64) {
                throw new IllegalArgumentException("bad capability chain in vfio_iommu_type1_info at " + next);
            }
            int id = info.getShort(next) & 0xffff;
            if (id == VfioUapi.VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
                // struct vfio_iommu_type1_info_cap_iova_range: header, nr_iovas u32, reserved u32, ranges[]
                int count = info.getInt(next + 8);
                for (int i = 0; i < count; i++) {
                    int at = next + 16 + 16 * i;
                    ranges.add(IovaRange.ofUnsigned(info.getLong(at), info.getLong(at + 8)));
                }
            } else if (id == VfioUapi.VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
                avail = Integer.toUnsignedLong(info.getInt(next + 8));
            }
            next = info.getInt(next + 4);
        }
        if (ranges.isEmpty()) {
            // Kernels before 5.4 report no ranges: assume the 39-bit space of common IOMMUs, minus the MSI window.
            ranges.add(new IovaRange(0, 0xfedf_ffffL));
            ranges.add(new IovaRange(0xfef0_0000L, (1L << 39) - 1));
        }
        return new Type1Info(pageSizes, List.copyOf(ranges), avail);
    }
}
