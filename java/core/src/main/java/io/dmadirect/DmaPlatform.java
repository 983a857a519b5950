package io.dmadirect;

/**
 * The machine's side of DMA: its memory, its zones, and whether DMA must be unencrypted. It attaches
 * devices, which then allocate. Open one with {@code SimulatedPlatform.builder()} for tests, or on a
 * Linux host with the mechanism layer.
 */
public interface DmaPlatform extends AutoCloseable {

    /** Attaches a device with the given DMA properties; its masks start at 32 bits as in the kernel. */
    DmaDevice attach(DeviceProperties properties);

    /** The smallest {@code 2^n - 1} covering the highest physical address of the system. */
    DmaMask requiredMask();

    /** {@code zone_dma_bits}: ZONE_DMA ends at {@code 2^zoneDmaBits}; 24 unless configured. */
    int zoneDmaBits();

    /** Whether this is a confidential VM guest, where device DMA must use shared memory. */
    boolean forcedUnencrypted();

    /** Free and total memory per zone. */
    MemoryStats memoryStats();

    /** Closes every device, frees their memory and gives the memory back; later use throws. */
    @Override
    void close();
}
