package io.dmadirect.linux.vfio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * VFIO's argument structs as native-order buffers: each starts with {@code argsz} (its size), and the
 * kernel writes its answer back into the same bytes. Offsets follow {@code include/uapi/linux/vfio.h};
 * {@code VfioLayoutTest} checks them against the header.
 */
final class VfioStructs {
    private VfioStructs() {
    }

    /** A zeroed struct of {@code size} bytes with {@code argsz = size}. */
    static ByteBuffer withArgsz(int size) {
        ByteBuffer b = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
        b.putInt(0, size);
        return b;
    }

    /** {@code struct vfio_region_info} for {@code index}: argsz, flags, index, cap_offset, size, offset. */
    static ByteBuffer regionInfo(int index, int argsz) {
        ByteBuffer b = withArgsz(Math.max(argsz, VfioUapi.SIZEOF_REGION_INFO));
        b.putInt(8, index);
        return b;
    }

    /** {@code struct vfio_irq_info}: argsz, flags, index, count. */
    static ByteBuffer irqInfo(int index) {
        ByteBuffer b = withArgsz(VfioUapi.SIZEOF_IRQ_INFO);
        b.putInt(8, index);
        return b;
    }

    /** {@code struct vfio_irq_set} with {@code data} ints after the 20-byte header. */
    static ByteBuffer irqSet(int flags, int index, int start, int count, int[] data) {
        ByteBuffer b = withArgsz(VfioUapi.SIZEOF_IRQ_SET + 4 * data.length);
        b.putInt(4, flags).putInt(8, index).putInt(12, start).putInt(16, count);
        for (int i = 0; i < data.length; i++) {
            b.putInt(VfioUapi.SIZEOF_IRQ_SET + 4 * i, data[i]);
        }
        return b;
    }

    /** {@code struct vfio_iommu_type1_dma_map}: argsz, flags, vaddr, iova, size. */
    static ByteBuffer dmaMap(long cpuAddress, long iova, long size) {
        ByteBuffer b = withArgsz(VfioUapi.SIZEOF_DMA_MAP);
        b.putInt(4, VfioUapi.VFIO_DMA_MAP_FLAG_READ | VfioUapi.VFIO_DMA_MAP_FLAG_WRITE);
        b.putLong(8, cpuAddress).putLong(16, iova).putLong(24, size);
        return b;
    }

    /** {@code struct vfio_iommu_type1_dma_unmap}: argsz, flags, iova, size. */
    static ByteBuffer dmaUnmap(long iova, long size) {
        ByteBuffer b = withArgsz(VfioUapi.SIZEOF_DMA_UNMAP);
        b.putLong(8, iova).putLong(16, size);
        return b;
    }

    /** A NUL-terminated C string, for {@code VFIO_GROUP_GET_DEVICE_FD}. */
    static ByteBuffer cString(String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length + 1);
        b.put(bytes).put((byte) 0).clear();
        return b;
    }
}
