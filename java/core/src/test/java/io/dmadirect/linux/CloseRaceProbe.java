package io.dmadirect.linux;

import io.dmadirect.host.LinuxPlatform;

import io.dmadirect.host.LinuxPlatformOptions;
import io.dmadirect.linux.hugepages.HugepageOptions;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The child JVM of {@link CloseRaceHostTest}: closes a real-hugepage platform while it is busy, the way a
 * multi-threaded driver's shutdown does, and prints one line. Exit 0 when every operation either worked
 * or failed with the documented {@link DmaUsageException}; 4 with the stack trace on any other
 * exception; a crash of the JVM shows as its own exit code (134 for SIGSEGV's abort).
 *
 * <ul>
 *   <li>{@code alloc-race ROUNDS}: issue 15 finding 1. Three threads loop {@code allocCoherent(~2 MiB).close()}
 *       while the main thread closes the platform after 1-10 ms; then a CPU view kept from before the
 *       close is read and written.</li>
 *   <li>{@code sync-after-close}: issue 15 finding 2. A direct mapping of a non-coherent device is
 *       synced and closed after its platform closed.</li>
 * </ul>
 */
public final class CloseRaceProbe {
    private static final long PAGE = 2 * Sizes.MiB;

    private CloseRaceProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        try {
            if (args[0].equals("alloc-race")) {
                allocRace(Integer.parseInt(args[1]));
            } else {
                syncAfterClose();
            }
            System.exit(PlatformProbe.OK);
        } catch (RuntimeException | Error e) {
            e.printStackTrace(System.out);
            System.exit(PlatformProbe.CRASH);
        }
    }

    private static DmaPlatform open() {
        return LinuxPlatform.open(LinuxPlatformOptions.DEFAULTS
                .withHugepages(HugepageOptions.DEFAULTS.withName("dmadirect-close-race").withInitialBytes(8 * PAGE))
                .withUnencrypted(LinuxPlatformOptions.Unencrypted.NEVER));
    }

    private static void allocRace(int rounds) throws InterruptedException {
        AtomicLong allocations = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        for (int round = 0; round < rounds; round++) {
            DmaPlatform platform = open();
            DmaDevice device = platform.attach(DeviceProperties.simple("race"));
            device.setMaskAndCoherent(DmaMask.BITS_64);
            ByteBuffer stale = device.allocCoherent(64 * Sizes.KiB).cpuView();
            stale.putLong(0, 0x1234_5678_9abc_def0L);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        while (true) {
                            DmaBuffer buffer = device.allocCoherent(PAGE - 4096);
                            allocations.incrementAndGet();
                            buffer.close();
                        }
                    } catch (DmaUsageException closed) {
                        refused.incrementAndGet();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                thread.start();
                threads.add(thread);
            }
            Thread.sleep(ThreadLocalRandom.current().nextInt(1, 11));
            platform.close();
            for (Thread thread : threads) {
                thread.join(30_000);
            }
            if (failure.get() != null) {
                throw new AssertionError("an allocation racing close failed with an undocumented exception",
                        failure.get());
            }
            // The view outlived the memory: it must read harmlessly, never fault.
            long after = stale.getLong(0);
            stale.putLong(8, after);
            if (after != 0) {
                throw new AssertionError("a CPU view kept past close reads " + Sizes.hex(after) + ", not zeros");
            }
        }
        System.out.println("OK " + rounds + " rounds, " + allocations.get() + " allocations, " + refused.get()
                + " refused after close, stale views read zeros");
    }

    private static void syncAfterClose() {
        DmaPlatform platform = open();
        DmaDevice device = platform.attach(DeviceProperties.simple("noncoherent").withCoherent(false));
        device.setMaskAndCoherent(DmaMask.BITS_64);
        DmaBuffer buffer = device.allocCoherent(PAGE);
        DmaMapping mapping = device.map(buffer.cpuView(), DmaDirection.BIDIRECTIONAL);
        if (mapping.isBounced()) {
            throw new AssertionError("expected a direct mapping of pinned memory, got " + mapping);
        }
        platform.close();
        String sync;
        try {
            device.syncForDevice(mapping, DmaDirection.BIDIRECTIONAL);
            sync = "sync worked";
        } catch (DmaUsageException e) {
            sync = "sync refused";
        }
        mapping.close();
        System.out.println("OK " + sync + ", close quiet, unmapped " + mapping.isUnmapped());
    }
}
