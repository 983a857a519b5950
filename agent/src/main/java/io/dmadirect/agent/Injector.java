package io.dmadirect.agent;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMappingException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Mode {@code inject}: fails every Nth allocation or mapping, or a share of them chosen by a seeded hash
 * of the call's number, each kind of call in its own sequence (the same seed fails the same calls in a single-threaded run), optionally only
 * at call sites whose text contains {@code failSites=}. Mask narrowing and forced bouncing are set in
 * {@code DmaHooks} and applied by the advice itself.
 */
final class Injector {
    private final AgentOptions options;
    /**
     * Each kind of failure draws from its own sequence: with one sequence for both, allocation n and mapping n
     * failed together, so in a driver that allocates then maps, "allocated, then the mapping failed" never
     * happened alone. The allocation stream is the seed itself (what earlier runs with a seed reproduce).
     */
    static final long ALLOC_STREAM = 0;
    /** The mapping stream: the seed xor a constant with no relation to the hash's own (the fractional bits of sqrt 2). */
    static final long MAP_STREAM = 0x6A09E667F3BCC908L;
    private final AtomicLong allocCalls = new AtomicLong();
    private final AtomicLong mapCalls = new AtomicLong();
    private final ConcurrentHashMap<Integer, Boolean> siteMatches = new ConcurrentHashMap<>();

    Injector(AgentOptions options) {
        this.options = options;
    }

    /** The failure to throw instead of this allocation, or null. */
    Throwable allocation(Object device, long size, int site) {
        if (!options.failAlloc || !matches(site)) {
            return null;
        }
        long n = allocCalls.incrementAndGet();
        if (!fails(ALLOC_STREAM, n)) {
            return null;
        }
        return new DmaAllocationException("failed to allocate " + size + " bytes of coherent DMA memory for "
                + ((DmaDevice) device).name() + ": dmadirect-agent injected this failure (" + rule() + ", allocation #"
                + n + " at " + siteText(site) + "); the driver must handle it as it would a real exhaustion");
    }

    /** The failure to throw instead of this mapping, or null. */
    Throwable mapping(Object device, long size, int site) {
        if (!options.failMap || !matches(site)) {
            return null;
        }
        long n = mapCalls.incrementAndGet();
        if (!fails(MAP_STREAM, n)) {
            return null;
        }
        return new DmaMappingException("failed to map " + size + " bytes for " + ((DmaDevice) device).name()
                + ": dmadirect-agent injected this failure (" + rule() + ", mapping #" + n + " at " + siteText(site)
                + "); the driver must handle it as it would a full bounce pool");
    }

    private boolean fails(long stream, long n) {
        if (options.failEvery > 0 && n % options.failEvery == 0) {
            return true;
        }
        return options.failRate > 0 && unit(options.seed ^ stream, n) < options.failRate;
    }

    /** A number in [0, 1) from the seed and the call's number (SplitMix64's finalizer). */
    static double unit(long seed, long n) {
        long z = seed + n * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    private boolean matches(int site) {
        if (options.failSites == null) {
            return true;
        }
        if (site == 0) {
            return siteText(0).contains(options.failSites);
        }
        return siteMatches.computeIfAbsent(site, s -> CallSites.text(s).contains(options.failSites));
    }

    private static String siteText(int site) {
        return site != 0 ? CallSites.text(site) : Stacks.siteOf(Stacks.capture());
    }

    private String rule() {
        return options.failEvery > 0 ? "failEvery=" + options.failEvery
                : "failRate=" + options.failRate + " seed=" + options.seed;
    }

    long allocCalls() {
        return allocCalls.get();
    }
}
