package io.dmadirect.cli;

import io.dmadirect.linux.hugepages.HugepageSize;
import io.dmadirect.linux.ProcessCapabilities;
import io.dmadirect.linux.Rlimit;
import io.dmadirect.linux.hugepages.SystemMemoryMap;
import io.dmadirect.linux.headers.Resource;
import io.dmadirect.linux.jna.LinuxSyscalls;
import io.dmadirect.linux.sysfs.HostTree;
import java.util.Locale;

/**
 * What the commands read about the process itself (limits, user, page size), and the tree they read
 * the host from: "/" unless {@code -Ddmadirect.host.root} or {@code DMADIRECT_HOST_ROOT} points at another
 * (tests use a fake sysfs).
 */
final class Host {
    static final String ROOT_ENV = "DMADIRECT_HOST_ROOT";
    static final String ROOT_PROPERTY = "dmadirect.host.root";

    private Host() {
    }

    static HostTree tree() {
        String root = System.getProperty(ROOT_PROPERTY, System.getenv(ROOT_ENV));
        return root == null || root.isEmpty() ? HostTree.HOST : new HostTree(java.nio.file.Path.of(root));
    }

    static long pageSize() {
        return LinuxSyscalls.instance().pageSize();
    }

    static Rlimit memlock() {
        return LinuxSyscalls.instance().getrlimit(Resource.RLIMIT_MEMLOCK);
    }

    static ProcessCapabilities capabilities() {
        return ProcessCapabilities.current();
    }

    /** The real user id, from /proc/self/status; -1 when unreadable. */
    static int uid(HostTree tree) {
        for (String line : tree.read("/proc/self/status").orElse("").split("\n")) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    /** The last address of RAM, or -1 when no source answers. */
    static long highestRam(HostTree tree) {
        try {
            return new SystemMemoryMap(tree.root(), pageSize()).highestRamAddress();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    static HugepageSize parseSize(String text) {
        return switch (text.toUpperCase(Locale.ROOT)) {
            case "2M", "2MB", "2MIB", "2048K", "2048KB" -> HugepageSize.SIZE_2M;
            case "1G", "1GB", "1GIB" -> HugepageSize.SIZE_1G;
            default -> throw new IllegalArgumentException("unknown hugepage size " + text + " (use 2M or 1G)");
        };
    }
}
