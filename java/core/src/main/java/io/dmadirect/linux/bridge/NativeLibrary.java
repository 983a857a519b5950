package io.dmadirect.linux.bridge;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libdmadirect.so once per JVM: from {@code -Ddmadirect.native.path=FILE} when given, else
 * extracted from the jar's {@code native/linux-<arch>/} to a private temporary directory, loaded, and
 * deleted again (the mapping outlives the file). Any failure leaves the pure-Java fallback in place and
 * is logged once, with the reason. {@code -Ddmadirect.native=false} forces the fallback.
 */
public final class NativeLibrary {
    public static final String ENABLE_PROPERTY = "dmadirect.native";
    public static final String PATH_PROPERTY = "dmadirect.native.path";
    static final String PREFIX = "bridge: ";
    private static final System.Logger LOG = System.getLogger(NativeLibrary.class.getName());

    /**
     * What loading found. When {@code loaded}, {@code detail} says where from and which instructions
     * the CPU got; otherwise it is the reason the fallback is used.
     */
    public record Status(boolean loaded, String detail, String cleanInstruction, String invalidateInstruction,
            int lineSize) {
        static Status unavailable(String reason) {
            return new Status(false, reason, "none", "none", 0);
        }
    }

    /** The request a host makes: the system properties and the JVM's os.name and os.arch. */
    record Request(String enabled, String path, String osName, String osArch) {
        static Request ofSystem() {
            return new Request(System.getProperty(ENABLE_PROPERTY), System.getProperty(PATH_PROPERTY),
                    System.getProperty("os.name"), System.getProperty("os.arch"));
        }
    }

    private static final class Once {
        static final Status STATUS = logged(load(Request.ofSystem()));
    }

    private NativeLibrary() {
    }

    /** Loads on the first call; later calls return the same answer. */
    public static Status status() {
        return Once.STATUS;
    }

    /** The kernel's name (uname -m) for the JVM's os.arch, or null when the library is not built for it. */
    static String archOf(String osArch) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
    }

    /** Where the jar holds the library for {@code arch}. */
    static String resource(String arch) {
        return "/native/linux-" + arch + "/libdmadirect.so";
    }

    static Status load(Request request) {
        if ("false".equalsIgnoreCase(request.enabled())) {
            return Status.unavailable("disabled with -D" + ENABLE_PROPERTY + "=false");
        }
        if (request.osName() == null || !request.osName().startsWith("Linux")) {
            return Status.unavailable("the library is built for Linux only, this is " + request.osName());
        }
        String arch = archOf(request.osArch());
        if (arch == null) {
            return Status.unavailable("no library is built for os.arch " + request.osArch()
                    + " (x86_64 and aarch64 are)");
        }
        try {
            String from;
            if (request.path() != null) {
                System.load(Path.of(request.path()).toAbsolutePath().toString());
                from = request.path();
            } else {
                from = loadFromJar(arch);
            }
            return describe(from);
        } catch (IOException | LinkageError | SecurityException e) {
            return Status.unavailable("failed to load " + (request.path() != null ? request.path() : resource(arch))
                    + ": " + e);
        }
    }

    private static String loadFromJar(String arch) throws IOException {
        String resource = resource(arch);
        Path dir = Files.createTempDirectory("dmadirect-native");
        Path file = dir.resolve("libdmadirect.so");
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the jar has no " + resource + " (built without gcc, or for another arch)");
            }
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toString());
        } finally {
            // Once mapped, the library needs no file; nothing is left behind in the temporary directory.
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
        return "jar:" + resource;
    }

    /** Checks the version before anything else is called, then asks the library what it chose. */
    private static Status describe(String from) {
        int abi = NativeBridge.abiVersion();
        if (abi != NativeBridge.ABI_VERSION) {
            return Status.unavailable(from + " has ABI version " + abi + ", this jar needs "
                    + NativeBridge.ABI_VERSION + " (a stale -D" + PATH_PROPERTY + "?)");
        }
        return new Status(true, "loaded " + from, NativeBridge.cleanInstruction(),
                NativeBridge.invalidateInstruction(), NativeBridge.lineSize());
    }

    private static Status logged(Status status) {
        if (status.loaded()) {
            LOG.log(Level.DEBUG, PREFIX + "{0}: clean {1}, invalidate {2}, line {3} bytes", status.detail(),
                    status.cleanInstruction(), status.invalidateInstruction(), status.lineSize());
        } else {
            LOG.log(Level.INFO, PREFIX + "native library not used, pure-Java fallback: {0}", status.detail());
        }
        return status;
    }
}
