package io.dmadirect;

/**
 * The machine's side of DMA: its memory, its zones, and whether DMA must be unencrypted. It attaches
 * devices, which then allocate. Open one with {@code SimulatedPlatform.builder()} for tests, or on a
 * Linux host with {@code io.dmadirect.host.LinuxPlatform.open(options)}.
 *
 * <h2>Threads and close</h2>
 * A platform and everything it hands out (devices, buffers, mappings, scatter lists) may be used from any
 * number of threads at once, without locks of the caller's; operations on different objects do not
 * serialize on a global lock. {@link #close()} may race any of them, as a multi-threaded driver's
 * shutdown does, and is then safe:
 * <ul>
 *   <li>every operation either completes against live memory or is refused with
 *       {@link DmaUsageException} ("... is closed"); none runs on memory being freed or unmapped, because
 *       close first refuses new operations, then waits for those already running to finish, and only then
 *       frees;</li>
 *   <li>nothing created while close runs escapes it: a buffer or mapping whose operation was admitted is
 *       freed by that close, one that was not is refused;</li>
 *   <li>{@code close()} of a buffer, mapping or scatter list that its device's or platform's close already
 *       released is a quiet no-op (so try-with-resources in a shutting-down driver does not throw), while
 *       explicit use of it afterwards ({@link DmaDevice#freeCoherent}, {@link DmaDevice#unmap}, syncs,
 *       {@link DmaBuffer#cpuView()}) throws {@link DmaUsageException};</li>
 *   <li>a {@code ByteBuffer} obtained from {@link DmaBuffer#cpuView()} (or any view of the platform's memory)
 *       and kept past close is never a crash: the memory under it is replaced by private zero-filled
 *       memory, so it reads zeros and its writes reach no device. Do not rely on its contents;</li>
 *   <li>close is idempotent; a second caller, from any thread, waits until the first is done. The wait for
 *       running operations is bounded (10 s): if one never finishes (or close is called from inside one),
 *       close throws {@link DmaUsageException} and leaves the memory mapped, leaked rather than unmapped
 *       under an operation.</li>
 * </ul>
 */
public interface DmaPlatform extends AutoCloseable {

    /**
     * Attaches a device with the given DMA properties; its masks start at 32 bits as in the kernel.
     *
     * @param properties what firmware would tell the kernel about the device's DMA
     * @return the device, to be closed by its driver
     * @throws DmaUsageException when the platform is closed
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

    /**
     * Refuses new operations, waits for running ones, closes every device (freeing what drivers left) and
     * gives the memory back; later use throws {@link DmaUsageException}. See the class comment for racing
     * threads and for views kept past close.
     *
     * @throws DmaUsageException when operations did not finish in time; the memory is then leaked, not freed
     */
    @Override
    void close();
}
