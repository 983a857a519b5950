package io.dmadirect.cli.rig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Where {@code dmadirect rig} finds the QEMU rig's scripts (test-rigs/qemu: run-guest.sh, bind.sh,
 * prepare.sh, lib.sh, guest/init.sh):
 * <ol>
 *   <li>{@code --scripts DIR} or {@code $DMADIRECT_RIG_SCRIPTS};</li>
 *   <li>the checkout the command's jar lives in ({@code test-rigs/qemu} in a directory above it), so that a
 *       developer's edits to the scripts take effect;</li>
 *   <li>otherwise the copy packed in the jar at build time ({@code dmadirect-rig/}), extracted once to
 *       {@code ~/.cache/dmadirect-rig/scripts/<content hash>/}: an installed {@code dmadirect} needs no
 *       checkout, and a newer jar's scripts never mix with an older one's.</li>
 * </ol>
 * The guest sees the host's root read-only, so the scripts run there from the same path.
 */
public final class RigScripts {
    static final String RESOURCE_DIR = "dmadirect-rig/";

    private RigScripts() {
    }

    /** {@return the directory holding run-guest.sh, and a line saying where it came from} */
    public static Located locate(Path explicit) {
        if (explicit != null) {
            return check(explicit, "--scripts");
        }
        String env = System.getenv("DMADIRECT_RIG_SCRIPTS");
        if (env != null && !env.isEmpty()) {
            return check(Path.of(env), "$DMADIRECT_RIG_SCRIPTS");
        }
        Path self = codeSource();
        for (Path dir = self == null ? null : self.getParent(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("test-rigs/qemu");
            if (Files.isRegularFile(candidate.resolve("run-guest.sh"))) {
                return new Located(candidate, "the checkout at " + dir);
            }
        }
        return new Located(extract(self, cacheRoot().resolve("scripts")), "the scripts packed in " + self);
    }

    /** A scripts directory and where it came from. */
    public record Located(Path dir, String origin) {
        public Path script(String name) {
            return dir.resolve(name);
        }
    }

    static Path cacheRoot() {
        String cache = System.getenv("DMADIRECT_RIG_CACHE");
        return cache != null && !cache.isEmpty() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "dmadirect-rig");
    }

    private static Located check(Path dir, String from) {
        if (!Files.isRegularFile(dir.resolve("run-guest.sh"))) {
            throw new IllegalArgumentException(from + " " + dir + " holds no run-guest.sh: point it at test-rigs/qemu");
        }
        return new Located(dir.toAbsolutePath(), from);
    }

    private static Path codeSource() {
        try {
            return Path.of(RigScripts.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** Extracts the packed scripts from {@code source} (the jar, or target/classes) unless already there. */
    static Path extract(Path source, Path cache) {
        if (source == null) {
            throw new IllegalStateException("cannot tell where the dmadirect command was loaded from; "
                    + "give the rig scripts with --scripts test-rigs/qemu");
        }
        Map<String, byte[]> files = read(source);
        if (!files.containsKey("run-guest.sh")) {
            throw new IllegalStateException(source + " has no packed rig scripts (" + RESOURCE_DIR
                    + "); give them with --scripts test-rigs/qemu");
        }
        Path target = cache.resolve(hash(files));
        if (Files.isRegularFile(target.resolve(".complete"))) {
            return target;
        }
        try {
            Path temp = Files.createDirectories(cache).resolve(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Path file = temp.resolve(f.getKey());
                Files.createDirectories(file.getParent());
                Files.write(file, f.getValue());
                if (f.getKey().endsWith(".sh")) {
                    file.toFile().setExecutable(true, false);
                }
            }
            Files.write(temp.resolve(".complete"), new byte[0]);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                // Another dmadirect extracted the same content meanwhile: use theirs.
                if (!Files.isRegularFile(target.resolve(".complete"))) {
                    throw raced;
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("failed to extract the rig scripts to " + target + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, byte[]> read(Path source) {
        Map<String, byte[]> files = new TreeMap<>();
        try {
            if (Files.isDirectory(source)) {
                Path root = source.resolve(RESOURCE_DIR);
                if (Files.isDirectory(root)) {
                    List<Path> all = new ArrayList<>();
                    try (var walk = Files.walk(root)) {
                        walk.filter(Files::isRegularFile).forEach(all::add);
                    }
                    for (Path p : all) {
                        files.put(root.relativize(p).toString(), Files.readAllBytes(p));
                    }
                }
                return files;
            }
            try (ZipFile zip = new ZipFile(source.toFile())) {
                Enumeration<? extends ZipEntry> entries = zip.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry e = entries.nextElement();
                    if (!e.isDirectory() && e.getName().startsWith(RESOURCE_DIR)) {
                        try (InputStream in = zip.getInputStream(e)) {
                            files.put(e.getName().substring(RESOURCE_DIR.length()), in.readAllBytes());
                        }
                    }
                }
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read the rig scripts from " + source + ": " + e.getMessage(), e);
        }
    }

    private static String hash(Map<String, byte[]> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                sha.update(f.getKey().getBytes(StandardCharsets.UTF_8));
                sha.update(f.getValue());
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
