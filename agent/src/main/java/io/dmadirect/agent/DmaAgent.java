package io.dmadirect.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * The entry points: {@code premain} for {@code -javaagent:dmadirect-agent.jar=<options>} and
 * {@code agentmain} for a dynamic attach ({@link Attach}). Before anything refers to them, the two
 * classes that instrumented code calls are put on the bootstrap class path, so drivers loaded by any
 * class loader can reach them. This class itself names none of them.
 */
public final class DmaAgent {
    static final String[] BOOTSTRAP_CLASSES = {
        "io/dmadirect/agent/bootstrap/DmaHooks", "io/dmadirect/agent/bootstrap/DmaHooks$1",
        "io/dmadirect/agent/bootstrap/DmaHooks$PerThread",
        "io/dmadirect/agent/bootstrap/Dispatcher", "io/dmadirect/agent/bootstrap/Dispatcher$1",
    };
    private static boolean bootstrapped;

    private DmaAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    private static synchronized void start(String args, Instrumentation inst, boolean atStartup) {
        try {
            if (!bootstrapped) {
                appendToBootstrap(inst);
                bootstrapped = true;
            }
            Installer.start(args, inst, atStartup);
            // Issue 19: read when a PCI session opens (LinuxPlatformOptions.iommuUnmapOnFreeInEffect), so sessions in
            // IOVA mode opened from now on unmap at free, also after a dynamic attach.
            if (AgentOptions.parse(args).iommuFree) {
                // A compile-time constant: inlined, so LinuxPlatformOptions is not loaded here.
                System.setProperty(io.dmadirect.host.LinuxPlatformOptions.IOMMU_UNMAP_ON_FREE_PROPERTY, "true");
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            if (atStartup) {
                // A wrong option is the user's to fix before the driver runs, as the JVM does for its own flags.
                System.exit(2);
            }
        } catch (Throwable e) {
            System.err.println("dmadirect-agent: failed to start (" + e + "); the driver runs without the agent."
                    + " Java " + Runtime.version() + ", agent jar " + jarPath());
            e.printStackTrace();
        }
    }

    /** Writes the bootstrap classes into a small jar and appends it to the bootstrap class path. */
    private static void appendToBootstrap(Instrumentation inst) throws IOException {
        Path jar = Files.createTempFile("dmadirect-agent-bootstrap", ".jar");
        jar.toFile().deleteOnExit();
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            for (String name : BOOTSTRAP_CLASSES) {
                try (InputStream in = DmaAgent.class.getClassLoader().getResourceAsStream(name + ".class")) {
                    if (in == null) {
                        throw new IOException("failed to read " + name + ".class from the agent jar " + jarPath());
                    }
                    out.putNextEntry(new JarEntry(name + ".class"));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar.toFile()));
    }

    static String jarPath() {
        try {
            return Path.of(DmaAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            return "(unknown: " + e + ")";
        }
    }
}
