package io.dmadirect.fuzz;

/**
 * What the device does on the bus, for the data invariants: the simulated platform's bus master, or
 * nothing on a real host without a device (the data checks that need a device are then skipped, and say so
 * in the volume line's name).
 */
interface DeviceSide {
    /** Device reads {@code length} bytes at {@code dma}; null when the access faulted. */
    byte[] read(long dma, int length);

    /** Device writes {@code data} at {@code dma}; false when the access faulted. */
    boolean write(long dma, byte[] data);
}
