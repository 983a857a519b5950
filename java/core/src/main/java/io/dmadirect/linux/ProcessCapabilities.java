package io.dmadirect.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The effective capabilities of this process, from the {@code CapEff} line of /proc/self/status. Used to
 * decide in advance whether limits apply (CAP_IPC_LOCK lifts RLIMIT_MEMLOCK) and whether pagemap will
 * show frame numbers (CAP_SYS_ADMIN).
 *
 * @see <a href="https://man7.org/linux/man-pages/man5/proc_pid_status.5.html">proc_pid_status(5)</a>
 */
public record ProcessCapabilities(long effective) {

    /** This process's capabilities; none when /proc cannot be read, so limits are checked rather than assumed lifted. */
    public static ProcessCapabilities current() {
        try {
            return new ProcessCapabilities(parseEffective(KernelFiles.read(Path.of("/proc/self/status"))));
        } catch (IOException | RuntimeException e) {
            return new ProcessCapabilities(0);
        }
    }

    /** The CapEff mask in a /proc/PID/status text. */
    static long parseEffective(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
            }
        }
        throw new IllegalArgumentException("no CapEff line in status");
    }

    /** Whether capability number {@code cap} (a {@code CAP_*} of capability.h) is effective. */
    public boolean has(int cap) {
        return (effective >>> cap & 1) != 0;
    }
}
