package io.dmadirect.hil;

import io.dmadirect.drivers.e1000e.E1000eOptions;
import io.dmadirect.drivers.e1000e.E1000eStats;
import io.dmadirect.drivers.e1000e.FrameExchange;
import io.dmadirect.drivers.e1000e.PacketPool;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;

/**
 * [nic] issue 22: the child JVM of {@link NicAgentTest}, run under the javaagent. {@code debug}: the NIC traffic of
 * {@link NicPairTest} in brief (pool frames in batches, mapped frames, a dry pool), for the agent's debug checks.
 * {@code inject} (what the test runs, with the agent's debug checks on as well): attaches until an attach gets
 * through the injected allocation and mapping failures, sends pool frames in batches of 32, then frames from heap
 * memory through streaming mappings, some of whose mappings fail: each such frame is dropped and counted, and none
 * leaks. Prints {@code nic agent: ...} lines and exits 0; anything else exits 3.
 */
public final class NicAgentMain {
    static final int MAPPED_FRAMES = 200;
    private static final Duration LIMIT = Duration.ofSeconds(120);

    private NicAgentMain() {
    }

    public static void main(String[] args) {
        try {
            if (args.length == 1 && args[0].equals("debug")) {
                debug();
            } else if (args.length == 1 && args[0].equals("inject")) {
                inject();
            } else {
                throw new IllegalArgumentException("usage: NicAgentMain debug|inject");
            }
        } catch (Throwable t) {
            System.out.println("nic agent: FAILED: " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(3);
        }
    }

    private static void debug() {
        try (NicRig rig = NicRig.open("hil-nic-debug", E1000eOptions.DEFAULTS)) {
            if (!rig.linksUp(Duration.ofSeconds(20))) {
                throw new IllegalStateException("links down");
            }
            FrameExchange.Result r = FrameExchange.exchange(rig.a, rig.b, FrameExchange.lengths(64, 1514, 7), 32, 31, LIMIT);
            if (!r.allVerified()) {
                throw new IllegalStateException("pool frames: " + r);
            }
            int mapped = sendMapped(rig, 32, 32);
            if (mapped != 32) {
                throw new IllegalStateException(mapped + " of 32 mapped frames arrived with no failure injected");
            }
            System.out.println("nic agent: done: " + r.verified() + " pool frames and " + mapped
                    + " mapped frames verified byte for byte; " + rig.b.stats());
        }
    }

    private static void inject() {
        InjectedFailures attach = new InjectedFailures("nic attach");
        NicRig rig = null;
        int attempts = 0;
        while (rig == null) {
            if (++attempts > 50) {
                throw new IllegalStateException("no attach got through in 50 attempts");
            }
            try {
                rig = NicRig.open("hil-nic-inject", E1000eOptions.DEFAULTS);
            } catch (RuntimeException e) {
                attach.record(e); // rethrows what the agent did not inject
            }
        }
        try (NicRig r = rig) {
            if (!r.linksUp(Duration.ofSeconds(20))) {
                throw new IllegalStateException("links down");
            }
            // pool frames first: no DMA-API call per frame, so nothing to inject; the debug checks watch the rest
            FrameExchange.Result pool = FrameExchange.exchange(r.a, r.b, FrameExchange.lengths(64, 1514, 7), 32, 31, LIMIT);
            if (!pool.allVerified()) {
                throw new IllegalStateException("pool frames: " + pool);
            }
            System.out.println("nic agent: pool: " + pool);
            int poolBefore = r.a.pool().available();
            int verified = sendMapped(r, MAPPED_FRAMES, 33);
            E1000eStats s = r.a.stats();
            long dropped = MAPPED_FRAMES - verified;
            if (dropped != s.mappingFailures()) {
                throw new IllegalStateException(dropped + " frames missing but " + s.mappingFailures() + " mapping failures");
            }
            if (r.a.reclaim() != 0 || r.a.pool().available() != poolBefore) {
                throw new IllegalStateException("something is left in flight or the pool changed: " + r.a.pool().available()
                        + " free, " + poolBefore + " before");
            }
            System.out.println("nic agent: attach: " + attach.count() + " injected (" + attach.allocations() + " allocation, "
                    + attach.mappings() + " mapping) in " + attempts + " attempts");
            System.out.println("nic agent: mapped: " + MAPPED_FRAMES + " frames, " + verified + " verified byte for byte, "
                    + s.mappingFailures() + " mapping failures dropped them; pool " + poolBefore + " free before and after");
            System.out.println("nic agent: seen " + (attach.count() + s.mappingFailures()) + " injected failures");
        }
    }

    /**
     * Sends {@code n} frames from heap memory through {@link io.dmadirect.drivers.e1000e.E1000eNic#transmitMapped}
     * and returns how many arrived byte-identical; a frame whose mapping fails is not sent, and must not arrive.
     */
    private static int sendMapped(NicRig rig, int n, long seed) {
        PacketPool rxPool = rig.b.pool();
        int[] got = new int[1];
        byte[] back = new byte[PacketPool.BUFFER_BYTES];
        int verified = 0;
        for (int i = 0; i < n; i++) {
            byte[] f = FrameExchange.frame(rig.b.macAddress(), rig.a.macAddress(), 64 + (i * 97) % 1450, i, seed);
            if (!rig.a.transmitMapped(ByteBuffer.wrap(f), 0, f.length)) {
                continue;
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            int k = 0;
            while (k == 0 && System.nanoTime() < deadline) {
                k = rig.b.receive(got, 0, 1);
            }
            if (k == 0) {
                throw new IllegalStateException("mapped frame " + i + " never arrived");
            }
            int len = rxPool.read(got[0], back, 0);
            rxPool.free(got[0]);
            if (len != f.length || !Arrays.equals(f, 0, len, back, 0, len)) {
                throw new IllegalStateException("mapped frame " + i + " differs: " + len + " bytes for " + f.length);
            }
            verified++;
        }
        return verified;
    }
}
