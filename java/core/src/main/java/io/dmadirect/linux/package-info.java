/**
 * The Linux mechanism layer: every system call dmadirect makes, and the real platform of a host.
 *
 * <ul>
 *   <li>{@link io.dmadirect.host.LinuxPlatform} ({@code LinuxPlatform.open}) with
 *       {@link io.dmadirect.host.LinuxPlatformOptions}: the dma-direct policy over this host's hugepages
 *       in PA mode, with a table lookup from CPU virtual address to DMA address;</li>
 *   <li>{@link io.dmadirect.linux.Syscalls}: the one syscall seam (Java types only); the real one is
 *       {@code io.dmadirect.linux.jna.LinuxSyscalls}, the only JNA code in the project;</li>
 *   <li>{@link io.dmadirect.linux.LinuxException}: "failed to &lt;op&gt;: &lt;strerror&gt; (errno N); &lt;remedy&gt;";</li>
 *   <li>{@link io.dmadirect.linux.hugepages.Pagemap}: virtual to physical, one read per page, done once;</li>
 *   <li>{@link io.dmadirect.linux.hugepages.HugepageMemory}: the {@code PhysicalMemory} of a real host (PA mode),
 *       with {@link io.dmadirect.linux.hugepages.HugepageOptions} and the low-memory reserve
 *       ({@link io.dmadirect.linux.hugepages.LowMemoryQuota}: search the pool, then a ballast of surplus pages
 *       that pushes the kernel into ZONE_DMA32);</li>
 *   <li>{@link io.dmadirect.linux.hugepages.SystemMemoryMap}: the highest physical address of RAM, for the required mask;</li>
 *   <li>{@link io.dmadirect.host.ConfidentialComputing}: whether DMA must be forced unencrypted.</li>
 * </ul>
 *
 * <h2>Confidential VM guests</h2>
 * In an Intel TDX guest ({@code tdx_guest} in /proc/cpuinfo) or an AMD SEV, SEV-ES or SEV-SNP guest
 * ({@code sev*} together with {@code hypervisor}), the platform forces DMA unencrypted, as the kernel does
 * under {@code CC_ATTR_GUEST_MEM_ENCRYPT}. Devices there reach only memory shared with the host, and only
 * the kernel can share pages; so in such a guest {@code allocCoherent} fails with a message saying this,
 * and the atomic pools stay empty, until a shared bounce pool exists. The detection can be overridden with
 * {@link io.dmadirect.host.LinuxPlatformOptions.Unencrypted}.
 *
 * <p>Constants of the C headers are in {@code io.dmadirect.linux.headers}, one class per header.
 */
package io.dmadirect.linux;

import io.dmadirect.host.ConfidentialComputing;
import io.dmadirect.host.LinuxPlatform;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.HugepageMemory;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.linux.hugepages.LowMemoryQuota;
import io.dmadirect.linux.hugepages.Pagemap;
import io.dmadirect.linux.hugepages.SystemMemoryMap;
