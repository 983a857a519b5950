package io.dmadirect.hil;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.direct.DirectPlatform;
import io.dmadirect.drivers.edu.EduDriver;
import java.util.Arrays;

/**
 * The edu under injected failures, in the child JVM of {@link AgentFaultInjectionTest}. The edu driver
 * leaves memory to its caller, so the allocations and mappings are this workload's: each round allocates
 * two coherent buffers and DMAs a fresh pattern RAM -> device -> RAM, then maps a heap array TO_DEVICE
 * (bounced) and another FROM_DEVICE and DMAs through those. A round that meets an injected failure is
 * retried: the next round must move correct bytes, and after every failure the platform must be back
 * to what it had handed out before the round (nothing leaked). Rounds go on until {@link #ROUNDS} were good
 * and both an allocation and a mapping failed.
 */
final class EduFaults {
    static final int ROUNDS = 12;
    private static final int N = EduDriver.MAX_TRANSFER;

    private EduFaults() {
    }

    static void run() {
        EduDriver edu = Rig.edu();
        DirectPlatform platform = (DirectPlatform) Rig.eduSession().platform();
        InjectedFailures failures = new InjectedFailures("edu");
        int good = 0;
        int attempt = 0;
        int recovered = 0;
        boolean afterFailure = false;
        // Until both kinds of failure were met, whichever calls the seed picks: the coverage does not hang on it.
        while (good < ROUNDS || failures.allocations() == 0 || failures.mappings() == 0) {
            if (++attempt > 20 * ROUNDS) {
                throw new IllegalStateException("edu: " + good + " good rounds in " + attempt + " attempts: "
                        + failures + "; is failRate far from 0.1?");
            }
            UsageBaseline before = UsageBaseline.of(platform);
            try {
                round(edu, attempt);
                good++;
                if (afterFailure) {
                    recovered++;
                    afterFailure = false;
                }
            } catch (DmaAllocationException | DmaMappingException e) {
                failures.record(e);
                before.check(platform, "after an injected failure in edu round " + attempt);
                afterFailure = true;
            }
        }
        System.out.println("faults edu: done: " + good + " rounds MATCH in " + attempt + " attempts, "
                + failures + ", " + recovered + " rounds right after a failure MATCH, platform back to "
                + UsageBaseline.of(platform) + " after each failure");
        Rig.note("agent inject on edu (" + Rig.mode() + "): " + good + " round trips MATCH in " + attempt + " attempts, "
                + failures + "; after each failure nothing held, the next round MATCH");
    }

    private static void round(EduDriver edu, int attempt) {
        DmaDevice dma = edu.dma();
        byte[] pattern = NvmeRig.pattern(N, attempt);
        byte[] seen = new byte[N];
        try (DmaBuffer src = dma.allocCoherent(N); DmaBuffer dst = dma.allocCoherent(N)) {
            src.cpuView().put(pattern);
            edu.toDevice(src.dmaAddress(), 0, N);
            edu.fromDevice(0, dst.dmaAddress(), N);
            dst.cpuView().get(seen);
        }
        same(pattern, seen, "coherent round " + attempt);
        byte[] pattern2 = NvmeRig.pattern(N, 100_000 + attempt);
        byte[] back = new byte[N];
        try (DmaMapping out = dma.map(pattern2, 0, N, DmaDirection.TO_DEVICE)) {
            edu.toDevice(out.dmaAddress(), 0, N);
        }
        try (DmaMapping in = dma.map(back, 0, N, DmaDirection.FROM_DEVICE)) {
            edu.fromDevice(0, in.dmaAddress(), N);
        }
        same(pattern2, back, "bounced round " + attempt);
    }

    static void same(byte[] expected, byte[] seen, String what) {
        if (!Arrays.equals(expected, seen)) {
            throw new IllegalStateException(what + ": DATA CORRUPT, first difference at byte "
                    + Arrays.mismatch(expected, seen));
        }
    }
}
