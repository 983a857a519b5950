package io.dmadirect.linux.iommufd;

/**
 * Numbers and struct sizes from {@code include/uapi/linux/iommufd.h} (Linux 6.2+; not in this Debian's
 * 6.1 headers, so they are written here from the upstream header; {@code IommufdContextTest} checks them
 * against the values computed by hand from it, and the rig's iommufd variant against a 6.12 kernel).
 * {@code _IO(';', 0x80 + n)}; sizes are in the first u32.
 *
 * @see <a href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/iommufd.h">iommufd.h</a>
 */
final class IommufdUapi {
    private static final int TYPE = ';';
    private static final int CMD_BASE = 0x80;

    static final long IOMMU_DESTROY = io(0);
    static final long IOMMU_IOAS_ALLOC = io(1);
    static final long IOMMU_IOAS_ALLOW_IOVAS = io(2);
    static final long IOMMU_IOAS_COPY = io(3);
    static final long IOMMU_IOAS_IOVA_RANGES = io(4);
    static final long IOMMU_IOAS_MAP = io(5);
    static final long IOMMU_IOAS_UNMAP = io(6);
    /** Issue 21: {@code IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f}, Linux 6.13+. */
    static final long IOMMU_IOAS_MAP_FILE = io(0x0f);

    static final int IOMMU_IOAS_MAP_FIXED_IOVA = 1;
    static final int IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
    static final int IOMMU_IOAS_MAP_READABLE = 1 << 2;

    /** struct iommu_destroy { u32 size; u32 id; } */
    static final int SIZEOF_DESTROY = 8;
    /** struct iommu_ioas_alloc { u32 size; u32 flags; u32 out_ioas_id; } */
    static final int SIZEOF_IOAS_ALLOC = 12;
    /** struct iommu_ioas_iova_ranges { u32 size, ioas_id, num_iovas, __reserved; u64 allowed_iovas, out_iova_alignment; } */
    static final int SIZEOF_IOAS_IOVA_RANGES = 32;
    /** struct iommu_iova_range { u64 start; u64 last; } */
    static final int SIZEOF_IOVA_RANGE = 16;
    /** struct iommu_ioas_map { u32 size, flags, ioas_id, __reserved; u64 user_va, length, iova; } */
    static final int SIZEOF_IOAS_MAP = 40;
    /** struct iommu_ioas_map_file { u32 size, flags, ioas_id; s32 fd; u64 start, length, iova; } */
    static final int SIZEOF_IOAS_MAP_FILE = 40;
    /** struct iommu_ioas_unmap { u32 size, ioas_id; u64 iova, length; } */
    static final int SIZEOF_IOAS_UNMAP = 24;

    private IommufdUapi() {
    }

    private static long io(int n) {
        return ((long) TYPE << 8) | (CMD_BASE + n);
    }
}
