package io.dmadirect;

import io.dmadirect.linux.LinuxPlatform;
import io.dmadirect.linux.LinuxPlatformOptions;

/**
 * The machine's side of DMA: its memory, its zones, and whether DMA must be unencrypted. It attaches
 * devices, which then allocate. Open one with {@code SimulatedPlatform.builder()} for tests, or on a
 * Linux host with the mechanism layer.
 */
public interface DmaPlatform extends AutoCloseable {

    /**
     * Opens this Linux host's platform in PA mode: the dma-direct policy over pinned hugepages whose DMA
     * addresses are their physical addresses. Needs root and reserved hugepages; a failure says what to do.
     *
     * @param options the hugepages, the pools and the encryption mode; {@code LinuxPlatformOptions.DEFAULTS}
     *                for most uses
     * @return the open platform, to be closed by the caller
     */
    static DmaPlatform openLinux(LinuxPlatformOptions options) {
        return LinuxPlatform.open(options);
    }

    /**
     * Attaches a device with the given DMA properties; its masks start at 32 bits as in the kernel.
     *
     * @param properties what firmware would tell the kernel about the device's DMA
     * @return the device, to be closed by its driver
     */
    DmaDevice attach(DeviceProperties properties);

    /** {@return the smallest {@code 2^n - 1} covering the highest physical address of the system} */
    DmaMask requiredMask();

    /** {@return {@code zone_dma_bits}: ZONE_DMA ends at {@code 2^zoneDmaBits}; 24 unless configured} */
    int zoneDmaBits();

    /** {@return whether this is a confidential VM guest, where device DMA must use shared memory} */
    boolean forcedUnencrypted();

    /** {@return free and total memory per zone} */
    MemoryStats memoryStats();

    /** Closes every device, frees their memory and gives the memory back; later use throws. */
    @Override
    void close();
}
