package io.dmadirect.linux.sysfs;

import io.dmadirect.linux.KernelFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The files of /sys, /proc and /dev under a root: "/" on a host, a temporary directory in tests that
 * build a fake tree. Readers never throw for a missing file; they answer empty, because a missing file
 * is itself an answer here (no IOMMU, no such driver, a kernel without the feature).
 *
 * <p>{@code /sys} and {@code /dev} may sit elsewhere than under the root ({@link #of(Path, Path)}): a PCI session
 * is given its sysfs and device-node roots apart, and reads nothing else.
 */
public final class HostTree {
    public static final HostTree HOST = new HostTree(Path.of("/"));

    private final Path root;
    private final Path sys;
    private final Path dev;

    public HostTree(Path root) {
        this(root, root.resolve("sys"), root.resolve("dev"));
    }

    private HostTree(Path root, Path sys, Path dev) {
        this.root = root;
        this.sys = sys;
        this.dev = dev;
    }

    /**
     * {@code /sys} at {@code sys} and {@code /dev} at {@code dev}; every other path (such as {@code /proc}) is the
     * host's own.
     */
    public static HostTree of(Path sys, Path dev) {
        return new HostTree(Path.of("/"), sys, dev);
    }

    public Path root() {
        return root;
    }

    /** {@code absolute} ("/sys/bus/pci") under the root. */
    public Path path(String absolute) {
        String relative = absolute.startsWith("/") ? absolute.substring(1) : absolute;
        if (relative.equals("sys") || relative.startsWith("sys/")) {
            return sys.resolve(relative.substring(3).replaceFirst("^/", ""));
        }
        if (relative.equals("dev") || relative.startsWith("dev/")) {
            return dev.resolve(relative.substring(3).replaceFirst("^/", ""));
        }
        return root.resolve(relative);
    }

    /** The file's text, trimmed; empty when it is missing or unreadable. */
    public Optional<String> read(Path file) {
        try {
            return Optional.of(KernelFiles.read(file).trim());
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    public Optional<String> read(String absolute) {
        return read(path(absolute));
    }

    /** The names in a directory, sorted; empty when it is missing. */
    public List<String> list(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    public List<String> list(String absolute) {
        return list(path(absolute));
    }

    /** The last element of a symlink's target ("vfio-pci" for a device's driver link); empty when no link. */
    public Optional<String> linkName(Path link) {
        try {
            return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** The resolved path, or empty when it does not exist. */
    public Optional<Path> realPath(Path path) {
        try {
            return Optional.of(path.toRealPath());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes {@code text} to a sysfs attribute, as {@code echo text > file} does. */
    public void write(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }
}
