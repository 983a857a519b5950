package io.dmadirect.drivers.e1000e;

import java.time.Duration;

/**
 * Packets per second from one NIC to another on the same wire: the sender queues batches of 60-byte frames
 * (64 on the wire with the CRC), the receiver polls batches and frees them; one thread does both, as ixy's
 * forwarder does per core. What the rig's comparison with the kernel's driver runs (test-rigs/hil/nic-vs-kernel.sh).
 */
public final class E1000eBench {
    /** What a run measured. */
    public record Result(int batch, long sent, long received, long nanos) {
        public double receivedPerSecond() {
            return received * 1e9 / nanos;
        }

        @Override
        public String toString() {
            return String.format("tx->rx batch %d: %.0f pps received (%d sent, %d received in %.1f s)", batch,
                    receivedPerSecond(), sent, received, nanos / 1e9);
        }
    }

    /** Frames of the minimum size: the rate is the per-packet cost, not the copy. */
    static final int FRAME_BYTES = 60;

    private E1000eBench() {
    }

    /**
     * Sends and receives for {@code time} in batches of {@code batch}. The frames are written once into the
     * sender's buffers; each buffer is sent, freed by the driver once sent, and allocated again.
     */
    public static Result run(E1000eNic tx, E1000eNic rx, int batch, Duration time) {
        if (batch < 1 || batch > 256) {
            throw new IllegalArgumentException("batch is 1 to 256, not " + batch);
        }
        PacketPool txPool = tx.pool();
        PacketPool rxPool = rx.pool();
        byte[] frame = FrameExchange.frame(rx.macAddress(), tx.macAddress(), FRAME_BYTES, 0, 1);
        int[] handles = new int[batch];
        int[] got = new int[batch];
        long sent = 0;
        long received = 0;
        long start = System.nanoTime();
        long end = start + time.toNanos();
        long now = start;
        int pending = 0; // allocated, written, not yet accepted by the ring
        while (now < end) {
            if (pending == 0) {
                pending = txPool.allocBatch(handles, 0, batch);
                for (int i = 0; i < pending; i++) {
                    txPool.write(handles[i], frame, 0, FRAME_BYTES);
                }
            }
            int q = tx.transmit(handles, 0, pending);
            if (q < pending) {
                System.arraycopy(handles, q, handles, 0, pending - q);
            }
            pending -= q;
            sent += q;
            int k = rx.receive(got, 0, batch);
            rxPool.freeBatch(got, 0, k);
            received += k;
            now = System.nanoTime();
        }
        long nanos = now - start;
        if (pending > 0) {
            txPool.freeBatch(handles, 0, pending);
        }
        // what is still on the way is received (not counted) so that the next run starts from empty rings
        drain(tx, rx, got);
        return new Result(batch, sent, received, nanos);
    }

    private static void drain(E1000eNic tx, E1000eNic rx, int[] got) {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < deadline) {
            int k = rx.receive(got, 0, got.length);
            rx.pool().freeBatch(got, 0, k);
            if (k == 0 && tx.reclaim() == 0) {
                return;
            }
        }
    }

    /**
     * {@code E1000eBench BDF_TX BDF_RX SECONDS [BATCH...]}: attaches both NICs (each in its own session) and
     * prints one line per batch size (default 1 and 32) after a short warm-up.
     */
    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: E1000eBench BDF_TX BDF_RX SECONDS [BATCH...]");
            System.exit(2);
        }
        Duration time = Duration.ofSeconds(Long.parseLong(args[2]));
        int[] batches = args.length > 3 ? java.util.Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 32};
        var memory = io.dmadirect.linux.hugepages.HugepageOptions.DEFAULTS.withInitialBytes(8L << 20);
        try (var sa = io.dmadirect.host.PciSession.open(io.dmadirect.pci.PciAddress.parse(args[0]), memory.withName("nic-tx"));
                var sb = io.dmadirect.host.PciSession.open(io.dmadirect.pci.PciAddress.parse(args[1]), memory.withName("nic-rx"));
                E1000eNic a = E1000eNic.attach(sa.pci(), sa.dma());
                E1000eNic b = E1000eNic.attach(sb.pci(), sb.dma())) {
            if (!a.awaitLink(Duration.ofSeconds(10)) || !b.awaitLink(Duration.ofSeconds(10))) {
                throw new IllegalStateException("link down: " + a + " " + a.linkUp() + ", " + b + " " + b.linkUp());
            }
            run(a, b, 32, Duration.ofSeconds(2)); // JIT warm-up
            for (int batch : batches) {
                System.out.println("dmadirect " + run(a, b, batch, time));
            }
            System.out.println("dmadirect stats tx " + a.stats());
            System.out.println("dmadirect stats rx " + b.stats());
        }
    }
}
