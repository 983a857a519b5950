package io.dmadirect.fuzz;

import java.util.SplittableRandom;

/**
 * Runs one fuzz case per seed until the time budget is spent. A failing seed is shrunk to the shortest
 * prefix of its operations that still fails (the operations are drawn from the seed in order, so a prefix
 * is a smaller case of the same seed), and reported with the command that replays it. At the end it prints
 * the volume: seeds, operations, operations per second, threads.
 */
final class FuzzRun {
    /** One case: runs at most {@code maxOps} operations of {@code seed} and returns how many it ran. */
    @FunctionalInterface
    interface Case {
        long run(long seed, int maxOps) throws Exception;
    }

    private FuzzRun() {
    }

    /** @return the total number of operations run */
    static long run(String name, double defaultSeconds, int defaultOps, int threads, Case fuzzCase) {
        int maxOps = FuzzSettings.operations(defaultOps);
        Long replay = FuzzSettings.replaySeed();
        long budgetNanos = (long) (FuzzSettings.seconds(defaultSeconds) * 1e9);
        long start = System.nanoTime();
        SplittableRandom seeds = new SplittableRandom(replay != null ? replay : System.nanoTime() ^ start);
        long first = 0;
        long seedCount = 0;
        long operations = 0;
        do {
            long seed = replay != null ? replay : seeds.nextLong();
            if (seedCount == 0) {
                first = seed;
            }
            try {
                operations += fuzzCase.run(seed, maxOps);
            } catch (Throwable failure) {
                throw shrunk(name, seed, maxOps, fuzzCase, failure);
            }
            seedCount++;
        } while (replay == null && System.nanoTime() - start < budgetNanos);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("fuzz %s: %d seeds (first 0x%x), %d operations in %.1f s, %.0f operations/s, %d thread%s,"
                + " 0 failures%n", name, seedCount, first, operations, seconds, operations / seconds, threads,
                threads == 1 ? "" : "s");
        return operations;
    }

    private static AssertionError shrunk(String name, long seed, int maxOps, Case fuzzCase, Throwable failure) {
        int failing = maxOps;
        Throwable smallest = failure;
        int low = 0;
        // Bisect on the prefix length: a prefix of the operations is a smaller case of the same seed.
        while (low + 1 < failing) {
            int mid = (low + failing) >>> 1;
            try {
                fuzzCase.run(seed, mid);
                low = mid;
            } catch (Throwable again) {
                failing = mid;
                smallest = again;
            }
        }
        return new AssertionError("fuzz " + name + " failed with seed 0x" + Long.toHexString(seed) + ", shrunk to "
                + failing + " operations (of " + maxOps + "); replay with -Ddmadirect.fuzz.seed=0x"
                + Long.toHexString(seed) + " -Ddmadirect.fuzz.ops=" + failing + ": " + smallest, smallest);
    }
}
