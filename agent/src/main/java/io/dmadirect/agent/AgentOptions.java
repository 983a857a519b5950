package io.dmadirect.agent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's options, from {@code -javaagent:dmadirect-agent.jar=mode=trace+debug,failOnError=true,...}:
 * comma-separated {@code key=value} pairs. Lists inside a value are separated by {@code :}
 * ({@code packages=com.acme.nic:com.acme.util}).
 */
final class AgentOptions {
    static final String USAGE = "options: mode=trace|debug|inject (combine with +), packages=p1:p2, failOnError=true,"
            + " report=<path prefix>, stacks=site|each, poison=true|false, quarantine=<buffers>, quarantineBytes=<n>[k|m],"
            + " failEvery=<n>, failRate=<0..1>, seed=<n>, failSites=<substring>, failOps=alloc+map,"
            + " maskBits=<n>, forceBounce=true, bounceBytes=<n>[k|m], nonDmaMemory=true, staleReads=true, dump=<file>,"
            + " iommuFree=true";

    final boolean trace;
    final boolean debug;
    final boolean inject;
    final List<String> packages;
    final boolean failOnError;
    final String report;
    final boolean stackPerAllocation;
    final boolean poison;
    final int quarantine;
    final long quarantineBytes;
    final long failEvery;
    final double failRate;
    final long seed;
    final String failSites;
    final boolean failAlloc;
    final boolean failMap;
    final int maskBits;
    final boolean forceBounce;
    final boolean nonDmaMemory;
    final boolean staleReads;
    final long bounceBytes;
    final String dump;
    /** Issue 19: IOVA-mode platforms unmap freed memory from the IOMMU (LinuxPlatformOptions.iommuUnmapOnFree). */
    final boolean iommuFree;

    private AgentOptions(Map<String, String> m) {
        List<String> modes = Arrays.asList(m.getOrDefault("mode", "trace").toLowerCase(Locale.ROOT).split("\\+"));
        for (String mode : modes) {
            if (!List.of("trace", "debug", "inject").contains(mode)) {
                throw bad("mode", mode, "trace, debug or inject, combined with + (mode=trace+debug)");
            }
        }
        trace = modes.contains("trace");
        debug = modes.contains("debug");
        inject = modes.contains("inject");
        String p = m.getOrDefault("packages", "");
        packages = p.isEmpty() ? List.of() : List.of(p.split(":"));
        failOnError = bool(m, "failOnError", false);
        report = m.get("report");
        String stacks = m.getOrDefault("stacks", "site");
        if (!stacks.equals("site") && !stacks.equals("each")) {
            throw bad("stacks", stacks, "site (one stack per call site) or each (one per allocation)");
        }
        stackPerAllocation = stacks.equals("each");
        // Off by default: the kernel's dma-debug does not poison freed memory (page poisoning is a separate
        // debug feature), and filling and checking freed buffers costs more than all the other checks together.
        poison = bool(m, "poison", false);
        quarantine = (int) number(m, "quarantine", 16);
        // Capped by bytes too: 16 freed 6 MiB buffers held back would exhaust a 24-bit device's 16 MiB zone.
        // A buffer larger than the cap is freed at once, unpoisoned; an allocation that fails drains it all.
        quarantineBytes = m.containsKey("quarantineBytes") ? bytes(m, "quarantineBytes") : 1024 * 1024;
        failEvery = number(m, "failEvery", 0);
        failRate = Double.parseDouble(m.getOrDefault("failRate", "0"));
        if (failRate < 0 || failRate > 1) {
            throw bad("failRate", m.get("failRate"), "a share between 0 and 1");
        }
        seed = number(m, "seed", 1);
        failSites = m.get("failSites");
        List<String> ops = Arrays.asList(m.getOrDefault("failOps", "alloc+map").split("\\+"));
        failAlloc = ops.contains("alloc");
        failMap = ops.contains("map");
        maskBits = (int) number(m, "maskBits", 0);
        if (maskBits != 0 && (maskBits < 12 || maskBits > 64)) {
            throw bad("maskBits", m.get("maskBits"), "a mask width between 12 and 64 bits");
        }
        forceBounce = bool(m, "forceBounce", false);
        // Off by default since the streaming API landed: a direct ByteBuffer handed to map() is what the
        // kernel's kmalloc() + dma_map_single() is, so allocateDirect is not a bug in itself.
        nonDmaMemory = bool(m, "nonDmaMemory", false);
        bounceBytes = bytes(m, "bounceBytes");
        // Opt-in: it writes the driver's receive buffers (see StaleReads), which nothing else of the agent does.
        staleReads = bool(m, "staleReads", false);
        dump = m.get("dump");
        // Opt-in and any mode: it changes how memory is mapped (one IOMMU mapping per live allocation), not the code.
        iommuFree = bool(m, "iommuFree", false);
        List<String> injecting = new ArrayList<>();
        for (String key : List.of("failEvery", "failRate", "maskBits", "forceBounce", "bounceBytes")) {
            if (m.containsKey(key)) {
                injecting.add(key);
            }
        }
        if (!inject && !injecting.isEmpty()) {
            throw new IllegalArgumentException("dmadirect-agent: " + injecting + " inject faults, but mode has no inject;"
                    + " add it (mode=" + String.join("+", modes) + "+inject)");
        }
    }

    static AgentOptions parse(String args) {
        Map<String, String> m = new LinkedHashMap<>();
        if (args != null && !args.isBlank()) {
            for (String pair : args.split(",")) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("dmadirect-agent: option '" + pair + "' is not key=value; " + USAGE);
                }
                m.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        for (String key : m.keySet()) {
            if (!USAGE.contains(" " + key + "=")) {
                throw new IllegalArgumentException("dmadirect-agent: unknown option '" + key + "'; " + USAGE);
            }
        }
        return new AgentOptions(m);
    }

    /** Whether {@code className} (dotted) is driver code: in {@code packages}, or anywhere outside the library and the JDK when none are given. */
    boolean isDriverClass(String className) {
        if (!packages.isEmpty()) {
            for (String p : packages) {
                if (className.startsWith(p + ".")) {
                    return true;
                }
            }
            return false;
        }
        return !(className.startsWith("java.") || className.startsWith("javax.") || className.startsWith("jdk.")
                || className.startsWith("sun.") || className.startsWith("com.sun.")
                || (className.startsWith("io.dmadirect.") && !className.startsWith("io.dmadirect.drivers."))
                || className.startsWith("org.junit.") || className.startsWith("org.apache.maven.")
                || className.startsWith("org.openjdk.jmh.") || className.startsWith("net.bytebuddy."));
    }

    String modeName() {
        List<String> m = new ArrayList<>();
        if (trace) {
            m.add("trace");
        }
        if (debug) {
            m.add("debug");
        }
        if (inject) {
            m.add("inject");
        }
        return String.join("+", m);
    }

    private static boolean bool(Map<String, String> m, String key, boolean dflt) {
        String v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.equals("true") && !v.equals("false")) {
            throw bad(key, v, "true or false");
        }
        return Boolean.parseBoolean(v);
    }

    private static long number(Map<String, String> m, String key, long dflt) {
        String v = m.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw bad(key, v, "a whole number");
        }
    }

    /** A size in bytes, with an optional k or m suffix (powers of 1024); 0 when absent. */
    private static long bytes(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            return 0;
        }
        String lower = v.toLowerCase(Locale.ROOT);
        long unit = lower.endsWith("k") ? 1024 : lower.endsWith("m") ? 1024 * 1024 : 1;
        try {
            long n = Long.parseLong(unit == 1 ? lower : lower.substring(0, lower.length() - 1)) * unit;
            if (n <= 0) {
                throw bad(key, v, "a positive size such as 256k (the pool is rounded up to 256 KiB segments)");
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(key, v, "a size in bytes, with k or m for KiB or MiB (bounceBytes=256k)");
        }
    }

    private static IllegalArgumentException bad(String key, String value, String expected) {
        return new IllegalArgumentException("dmadirect-agent: option " + key + "=" + value + " is not valid; expected "
                + expected);
    }
}
