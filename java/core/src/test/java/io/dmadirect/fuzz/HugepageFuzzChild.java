package io.dmadirect.fuzz;

import io.dmadirect.host.LinuxPlatform;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaException;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.linux.hugepages.HugepageOptions;
import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.spi.SwiotlbConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The fuzz suite on real hugepages, run in a child JVM by {@code linux.HugepageFuzzHostTest} so that a
 * crash is a failed test, not a lost build. Each seed opens a Linux platform (PA mode: pagemap addresses),
 * runs {@link OperationSequence} on one or two devices with random masks, or races a device's or the
 * platform's close against three threads, and checks the statistics after everything is freed. There is no
 * device on the host, so the data checks that need one are left to the simulated runs; ranges, overlaps,
 * documented exceptions, zeroing, use after close and the JVM's survival are checked on real memory.
 *
 * <p>Arguments: {@code sequences|races SECONDS}. Exit 0 with the volume printed; 4 with the failure and its
 * seed; a JVM crash shows as its own exit code (134 for SIGSEGV).
 */
public final class HugepageFuzzChild {
    static final int OK = 0;
    static final int FAILED = 4;
    private static final long PAGE = 2 * Sizes.MiB;

    private HugepageFuzzChild() {
    }

    public static void main(String[] args) {
        java.util.logging.Logger.getLogger("io.dmadirect").setLevel(java.util.logging.Level.SEVERE);
        try {
            System.setProperty("dmadirect.fuzz.seconds", args[1]);
            if (args[0].equals("sequences")) {
                FuzzRun.run("hugepage sequences", 10, 300, 1, HugepageFuzzChild::sequence);
            } else {
                FuzzRun.run("hugepage close races", 10, 600, 4, HugepageFuzzChild::race);
            }
            System.exit(OK);
        } catch (Throwable failure) {
            failure.printStackTrace(System.out);
            System.exit(FAILED);
        }
    }

    /** Fixed sizes, no growth: the statistics after everything is freed must equal the start's exactly. */
    private static DmaPlatform open() {
        return LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withName("dmadirect-fuzz").withInitialBytes(8 * PAGE)
                        .withMaxBytes(8 * PAGE))
                .withAtomicPools(256 * Sizes.KiB, 256 * Sizes.KiB)
                .withBouncePool(SwiotlbConfig.defaults().withBytes(Sizes.MiB).withDynamicMax(0))
                .withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER));
    }

    /** Memory parked in the threads' page caches counts as in use until drained, as on the simulated platform. */
    /**
     * Every zone has as many bytes in use as at the start. A zone may have grown meanwhile: a narrow mask
     * obtains low memory on demand (DirectPlatform.obtainBelow), which the platform keeps until it closes.
     */
    private static boolean sameUse(MemoryStats start, MemoryStats end) {
        for (io.dmadirect.ZoneStats zone : start.zones()) {
            io.dmadirect.ZoneStats now = end.zone(zone.zone());
            if (now.total() < zone.total() || now.total() - now.free() != zone.total() - zone.free()) {
                return false;
            }
        }
        return true;
    }

    private static MemoryStats drainedStats(DmaPlatform platform) {
        ((io.dmadirect.direct.ForwardingPlatform) platform).direct().drainThreadCaches();
        return platform.memoryStats();
    }

    private static List<OperationSequence.Dev> devices(DmaPlatform platform, SplittableRandom random) {
        List<OperationSequence.Dev> devices = new ArrayList<>();
        int count = 1 + random.nextInt(2);
        for (int i = 0; i < count; i++) {
            DmaDevice device = platform.attach(DeviceProperties.simple("hp" + i).withCoherent(random.nextInt(3) != 0));
            int bits = random.nextBoolean() ? 64 : 1 + random.nextInt(64);
            try {
                device.setMaskAndCoherent(DmaMask.bits(bits));
            } catch (io.dmadirect.DmaMaskUnsupportedException refused) {
                // Keeps the 32-bit default, which the hugepages may or may not satisfy: both are cases.
            }
            devices.add(new OperationSequence.Dev(device, null, 0));
        }
        return devices;
    }

    static long sequence(long seed, int maxOps) {
        SplittableRandom random = new SplittableRandom(seed);
        try (DmaPlatform platform = open()) {
            List<OperationSequence.Dev> devices = devices(platform, random);
            MemoryStats start = drainedStats(platform);
            OperationSequence sequence = new OperationSequence(random, devices, () -> false);
            for (int i = 0; i < maxOps; i++) {
                sequence.step();
            }
            sequence.teardown();
            sequence.assertNothingLive();
            MemoryStats end = drainedStats(platform);
            if (!sameUse(start, end)) {
                throw new AssertionError("statistics not back to the start: " + start + " then " + end
                        + "; recent operations:\n  " + sequence.recentLog());
            }
            return sequence.operations();
        }
    }

    static long race(long seed, int maxOps) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        DmaPlatform platform = open();
        AtomicBoolean closing = new AtomicBoolean();
        boolean closePlatform = random.nextInt(5) < 2;
        try {
            List<OperationSequence.Dev> devices = devices(platform, random);
            MemoryStats start = drainedStats(platform);
            LiveRanges live = new LiveRanges(closing::get);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong operations = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                OperationSequence sequence = new OperationSequence(random.split(), devices, closing::get, live, true);
                Thread thread = new Thread(() -> {
                    try {
                        for (int i = 0; i < maxOps / 3; i++) {
                            try {
                                sequence.step();
                            } catch (DmaException refused) {
                                if (!closing.get()) {
                                    throw refused;
                                }
                            }
                        }
                        sequence.teardown();
                    } catch (Throwable failure) {
                        failures.add(new AssertionError(failure + "; recent operations:\n  " + sequence.recentLog(), failure));
                    } finally {
                        operations.addAndGet(sequence.operations());
                    }
                });
                threads.add(thread);
                thread.start();
            }
            OperationSequence.Dev victim = devices.get(random.nextInt(devices.size()));
            TimeUnit.MICROSECONDS.sleep(random.nextLong(3000));
            closing.set(true);
            if (closePlatform) {
                platform.close();
            } else {
                victim.device.close();
            }
            for (Thread thread : threads) {
                thread.join(60_000);
                if (thread.isAlive()) {
                    throw new AssertionError("a thread hangs after the close");
                }
            }
            if (!failures.isEmpty()) {
                throw new AssertionError((closePlatform ? "platform" : "device") + " close: " + failures.peek(), failures.peek());
            }
            if (!closePlatform) {
                for (OperationSequence.Dev dev : devices) {
                    dev.device.close();
                }
                MemoryStats end = drainedStats(platform);
                if (!sameUse(start, end)) {
                    throw new AssertionError("memory escaped the device's close: " + start + " then " + end);
                }
            }
            return operations.get() + 1;
        } finally {
            platform.close();
        }
    }
}
