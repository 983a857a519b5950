/**
 * The Linux mechanism layer: every system call dmadirect makes, and real hugepage memory.
 *
 * <ul>
 *   <li>{@link io.dmadirect.linux.Syscalls}: the one syscall seam (Java types only); the real one is
 *       {@code io.dmadirect.linux.jna.LinuxSyscalls}, the only JNA code in the project;</li>
 *   <li>{@link io.dmadirect.linux.LinuxException}: "failed to &lt;op&gt;: &lt;strerror&gt; (errno N); &lt;remedy&gt;";</li>
 *   <li>{@link io.dmadirect.linux.Pagemap}: virtual to physical, one read per page, done once;</li>
 *   <li>{@link io.dmadirect.linux.HugepageMemory}: the {@code PhysicalMemory} of a real host (PA mode),
 *       with {@link io.dmadirect.linux.HugepageOptions} and the low-memory reserve;</li>
 *   <li>{@link io.dmadirect.linux.SystemMemoryMap}: the highest physical address of RAM;</li>
 *   <li>{@link io.dmadirect.linux.ConfidentialComputing}: whether DMA must be forced unencrypted.</li>
 * </ul>
 *
 * <p>Constants of the C headers are in {@code io.dmadirect.linux.headers}, one class per header.
 */
package io.dmadirect.linux;
