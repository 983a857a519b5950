package io.dmadirect.host;

import io.dmadirect.linux.KernelFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Whether this host is a confidential VM guest, whose devices can only reach shared (decrypted) memory,
 * so that dma-direct must force every DMA through unencrypted memory, as the kernel's
 * {@code force_dma_unencrypted()} does under {@code CC_ATTR_GUEST_MEM_ENCRYPT}.
 *
 * <p>From the flags of /proc/cpuinfo: {@code tdx_guest} exists only inside an Intel TDX guest. The AMD
 * flags {@code sev}, {@code sev_es} and {@code sev_snp} also appear on a bare-metal host that can
 * <em>run</em> SEV guests, so they count only together with {@code hypervisor}, the flag of any guest.
 * {@code sme} alone (host memory encryption) does not force bouncing: devices reach encrypted memory
 * through the C-bit in the DMA address.
 *
 * @see <a href="https://docs.kernel.org/arch/x86/amd-memory-encryption.html">AMD Memory Encryption</a>
 * @see <a href="https://docs.kernel.org/arch/x86/tdx.html">Intel Trust Domain Extensions</a>
 */
public final class ConfidentialComputing {

    /** What was found: the technology ("none", "AMD SEV-SNP", ...) and whether DMA must be unencrypted. */
    public record Status(String technology, boolean forceUnencrypted) {
        public static final Status NONE = new Status("none", false);
    }

    private ConfidentialComputing() {
    }

    /**
     * The status a platform runs with under {@code mode}: forced, never, or detected on this host. The one
     * place {@link LinuxPlatform} and PCI sessions resolve it.
     */
    public static Status resolve(LinuxPlatformOptions.Unencrypted mode) {
        switch (mode) {
            case FORCE:
                return new Status("forced by the options", true);
            case NEVER:
                return Status.NONE;
            default:
                return detect();
        }
    }

    /** Reads /proc/cpuinfo of this host; a host whose cpuinfo cannot be read is taken as not confidential. */
    public static Status detect() {
        try {
            return fromCpuinfo(KernelFiles.read(Path.of("/proc/cpuinfo")));
        } catch (IOException e) {
            return Status.NONE;
        }
    }

    /** The status the first "flags" line of a /proc/cpuinfo text describes. */
    public static Status fromCpuinfo(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("flags")) {
                return fromFlags(Set.of(line.substring(colon + 1).trim().split("\\s+")));
            }
        }
        return Status.NONE;
    }

    static Status fromFlags(Set<String> flags) {
        if (flags.contains("tdx_guest")) {
            return new Status("Intel TDX", true);
        }
        if (!flags.contains("hypervisor")) {
            return Status.NONE;
        }
        if (flags.contains("sev_snp")) {
            return new Status("AMD SEV-SNP", true);
        }
        if (flags.contains("sev_es")) {
            return new Status("AMD SEV-ES", true);
        }
        if (flags.contains("sev")) {
            return new Status("AMD SEV", true);
        }
        return Status.NONE;
    }
}
