package io.dmadirect;

/**
 * A streaming mapping from {@link DmaDevice#map}: what {@code dma_map_single()} returns, the DMA address
 * to hand the device for memory the driver already owns. The device may reach the memory itself
 * (a direct mapping) or a bounce buffer that the library copies to and from ({@link #isBounced()}).
 *
 * <p>Who sees what, and when, follows the direction:
 * <ul>
 *   <li>{@link DmaDirection#TO_DEVICE}: the device sees what the CPU wrote once the memory is mapped, and
 *       after each {@link #syncForDevice()}.</li>
 *   <li>{@link DmaDirection#FROM_DEVICE}: the CPU sees what the device wrote after {@link #syncForCpu()}
 *       and after unmapping ({@link #close()}).</li>
 *   <li>{@link DmaDirection#BIDIRECTIONAL}: both.</li>
 * </ul>
 * Closing the mapping unmaps it ({@code dma_unmap_single()}); a second unmap throws.
 *
 * <p>A mapping may be synced from any thread. When its device or platform closes, the mapping is released
 * with it (bounce buffers given back, no copy) and {@link #isUnmapped()} turns true; then {@link #close()}
 * is a quiet no-op, while syncs and {@link DmaDevice#unmap} throw {@link DmaUsageException}: no cache
 * maintenance or bounce copy ever runs on memory after close.
 */
public interface DmaMapping extends AutoCloseable {

    /** {@return the device this mapping was made for, and the only one that may unmap it} */
    DmaDevice device();

    /** {@return the address to program into the device} */
    long dmaAddress();

    /** {@return the mapped size in bytes} */
    long size();

    /**
     * {@return the direction the mapping was made with, which every sync of a one-way mapping must repeat (a
     * {@link DmaDirection#BIDIRECTIONAL} mapping may be synced in any direction)}
     */
    DmaDirection direction();

    /** {@return whether the device reaches a bounce buffer rather than the memory itself} */
    boolean isBounced();

    /** {@return whether the mapping has been unmapped} */
    boolean isUnmapped();

    /** {@code dma_sync_single_for_cpu()} over the whole mapping, with its own direction. */
    default void syncForCpu() {
        device().syncForCpu(this, direction());
    }

    /**
     * {@code dma_sync_single_range_for_cpu()}: {@code [offset, offset + length)} of the mapping.
     *
     * @param offset from the start of the mapping
     * @param length bytes to sync
     */
    default void syncForCpu(long offset, long length) {
        device().syncForCpu(this, offset, length, direction());
    }

    /** {@code dma_sync_single_for_device()} over the whole mapping, with its own direction. */
    default void syncForDevice() {
        device().syncForDevice(this, direction());
    }

    /**
     * {@code dma_sync_single_range_for_device()}: {@code [offset, offset + length)} of the mapping.
     *
     * @param offset from the start of the mapping
     * @param length bytes to sync
     */
    default void syncForDevice(long offset, long length) {
        device().syncForDevice(this, offset, length, direction());
    }

    /**
     * {@code dma_unmap_single()}; the same as {@link DmaDevice#unmap} while the device is open, a quiet
     * no-op once the device's close released the mapping.
     */
    @Override
    default void close() {
        device().unmap(this);
    }

    /**
     * {@code dma_unmap_single_attrs()}; the same as {@link DmaDevice#unmap(DmaMapping, DmaAttr...)} while the
     * device is open, a quiet no-op once the device's close released the mapping. The attributes are the
     * unmap's: {@code closeWith(DmaAttr.SKIP_CPU_SYNC)} skips the unmap's sync and copy back, and {@link #close()}
     * does them even when the mapping was made with {@code SKIP_CPU_SYNC}.
     *
     * @param attrs {@link DmaAttr#SKIP_CPU_SYNC}, or none
     */
    default void closeWith(DmaAttr... attrs) {
        device().unmap(this, attrs);
    }
}
