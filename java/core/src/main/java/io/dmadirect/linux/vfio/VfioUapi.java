package io.dmadirect.linux.vfio;

/**
 * Numbers from {@code include/uapi/linux/vfio.h} (checked against this machine's header by
 * {@code VfioLayoutTest}, which compiles a C program when gcc is there). {@code _IO(';', 100 + n)}:
 * VFIO encodes no size or direction in its ioctl numbers, the {@code argsz} field carries the size.
 *
 * @see <a href="https://elixir.bootlin.com/linux/v6.1/source/include/uapi/linux/vfio.h">vfio.h</a>
 */
public final class VfioUapi {
    private static final int TYPE = ';';
    private static final int BASE = 100;

    public static final long VFIO_GET_API_VERSION = io(0);
    public static final long VFIO_CHECK_EXTENSION = io(1);
    public static final long VFIO_SET_IOMMU = io(2);
    public static final long VFIO_GROUP_GET_STATUS = io(3);
    public static final long VFIO_GROUP_SET_CONTAINER = io(4);
    public static final long VFIO_GROUP_UNSET_CONTAINER = io(5);
    public static final long VFIO_GROUP_GET_DEVICE_FD = io(6);
    public static final long VFIO_DEVICE_GET_INFO = io(7);
    public static final long VFIO_DEVICE_GET_REGION_INFO = io(8);
    public static final long VFIO_DEVICE_GET_IRQ_INFO = io(9);
    public static final long VFIO_DEVICE_SET_IRQS = io(10);
    public static final long VFIO_DEVICE_RESET = io(11);
    public static final long VFIO_IOMMU_GET_INFO = io(12);
    public static final long VFIO_IOMMU_MAP_DMA = io(13);
    public static final long VFIO_IOMMU_UNMAP_DMA = io(14);
    /** Newer than 6.1: VFIO cdev ({@code /dev/vfio/devices/vfioN}), kernel 6.6+. */
    public static final long VFIO_DEVICE_BIND_IOMMUFD = io(18);
    /** Newer than 6.1: VFIO cdev, kernel 6.6+. */
    public static final long VFIO_DEVICE_ATTACH_IOMMUFD_PT = io(19);

    public static final int VFIO_API_VERSION = 0;
    public static final int VFIO_TYPE1_IOMMU = 1;
    public static final int VFIO_TYPE1v2_IOMMU = 3;
    public static final int VFIO_NOIOMMU_IOMMU = 8;

    public static final int VFIO_GROUP_FLAGS_VIABLE = 1;
    public static final int VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

    public static final int VFIO_DEVICE_FLAGS_RESET = 1;
    public static final int VFIO_DEVICE_FLAGS_PCI = 1 << 1;

    public static final int VFIO_PCI_CONFIG_REGION_INDEX = 7;
    public static final int VFIO_REGION_INFO_FLAG_READ = 1;
    public static final int VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
    public static final int VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
    public static final int VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;
    public static final int VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;

    public static final int VFIO_IRQ_INFO_EVENTFD = 1;
    public static final int VFIO_IRQ_SET_DATA_NONE = 1;
    public static final int VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
    public static final int VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
    public static final int VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
    public static final int VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
    public static final int VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;

    public static final int VFIO_IOMMU_INFO_PGSIZES = 1;
    public static final int VFIO_IOMMU_INFO_CAPS = 1 << 1;
    public static final int VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
    public static final int VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

    public static final int VFIO_DMA_MAP_FLAG_READ = 1;
    public static final int VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;

    /** sizeof of the fixed parts, from the header (see VfioLayoutTest). */
    public static final int SIZEOF_GROUP_STATUS = 8;
    /** Upstream {@code vfio_device_info} with its pad; 6.1 headers say 20, and a larger argsz is accepted. */
    public static final int SIZEOF_DEVICE_INFO = 24;
    public static final int SIZEOF_REGION_INFO = 32;
    public static final int SIZEOF_IRQ_INFO = 16;
    public static final int SIZEOF_IRQ_SET = 20;
    public static final int SIZEOF_IOMMU_TYPE1_INFO = 24;
    public static final int SIZEOF_DMA_MAP = 32;
    public static final int SIZEOF_DMA_UNMAP = 24;
    public static final int SIZEOF_BIND_IOMMUFD = 16;
    public static final int SIZEOF_ATTACH_IOMMUFD_PT = 12;

    private VfioUapi() {
    }

    private static long io(int n) {
        return ((long) TYPE << 8) | (BASE + n);
    }
}
