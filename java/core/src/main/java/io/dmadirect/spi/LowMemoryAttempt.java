package io.dmadirect.spi;

import java.util.List;
import java.util.Objects;

/**
 * What one attempt to obtain memory below a physical limit got ({@link PhysicalMemory#growBelow}): the
 * process's way to the kernel's ZONE_DMA and ZONE_DMA32 when a device's mask needs memory it does not hold.
 *
 * @param runs  the new runs, each wholly at or below the limit asked for; empty when nothing was obtained
 * @param nanos how long the attempt took
 * @param tried what was done and, when less than asked was obtained, why; said in logs and in the exception
 *              of a mask that still cannot be served
 */
public record LowMemoryAttempt(List<MemoryRun> runs, long nanos, String tried) {

    public LowMemoryAttempt {
        runs = List.copyOf(runs);
        Objects.requireNonNull(tried, "tried");
    }

    /** Nothing obtained, nothing tried, for {@code why}. */
    public static LowMemoryAttempt none(String why) {
        return new LowMemoryAttempt(List.of(), 0, why);
    }

    /** Bytes obtained. */
    public long bytes() {
        return runs.stream().mapToLong(MemoryRun::size).sum();
    }
}
