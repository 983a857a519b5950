package io.dmadirect.linux.sysfs;


import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The mounts of this process's namespace, from /proc/self/mountinfo, which (unlike /proc/mounts) names
 * the device number of each mount, so a disk is found mounted whatever path names it.
 *
 * @see <a href="https://man7.org/linux/man-pages/man5/proc_pid_mountinfo.5.html">proc_pid_mountinfo(5)</a>
 */
public record Mounts(List<Mount> all) {

    /** One mount: device number, where, the file system type, source, and the super-block options. */
    public record Mount(String majorMinor, String mountPoint, String fsType, String source, String superOptions) {
        /** The {@code pagesize=} of a hugetlbfs mount, or null (the default hugepage size) when absent. */
        public String pageSizeOption() {
            for (String option : superOptions.split(",")) {
                if (option.startsWith("pagesize=")) {
                    return option.substring("pagesize=".length());
                }
            }
            return null;
        }
    }

    public static Mounts read(HostTree tree) {
        return parse(tree.read("/proc/self/mountinfo").orElse(""));
    }

    static Mounts parse(String mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            String[] f = line.trim().split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 7 || dash < 6 || dash + 3 > f.length) {
                continue;
            }
            String superOptions = dash + 3 < f.length ? f[dash + 3] : "";
            mounts.add(new Mount(f[2], unescape(f[4]), f[dash + 1], unescape(f[dash + 2]), superOptions));
        }
        return new Mounts(List.copyOf(mounts));
    }

    public Optional<Mount> byDevice(String majorMinor) {
        return all.stream().filter(m -> m.majorMinor().equals(majorMinor)).findFirst();
    }

    public List<Mount> ofType(String fsType) {
        return all.stream().filter(m -> m.fsType().equals(fsType)).collect(Collectors.toList());
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
