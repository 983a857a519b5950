package io.dmadirect.drivers.e1000e;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Sends frames from one NIC to another on the same wire and checks that each arrives byte for byte: the test
 * of two NICs that talk, shared by the rig's tests, the simulated tests and the demo.
 */
public final class FrameExchange {
    /** The IEEE's local experimental EtherType: no stack on the wire takes these frames for its own. */
    public static final int ETHERTYPE = 0x88b5;

    /**
     * What an exchange saw.
     *
     * @param sent     frames the sender's ring accepted
     * @param received frames the receiver handed over
     * @param verified frames that matched what was sent, byte for byte, in order
     * @param firstMismatch the first difference, or empty
     */
    public record Result(int sent, int received, int verified, String firstMismatch) {
        public boolean allVerified() {
            return sent == received && received == verified && firstMismatch.isEmpty();
        }

        @Override
        public String toString() {
            return sent + " sent, " + received + " received, " + verified + " verified byte for byte"
                    + (firstMismatch.isEmpty() ? "" : "; " + firstMismatch);
        }
    }

    private FrameExchange() {
    }

    /**
     * A frame of {@code length} bytes (14 to 1514) from {@code src} to {@code dst}: the Ethernet header, then
     * a 4-byte sequence number and bytes from {@code seed}, so that a stale or misplaced frame cannot match.
     */
    public static byte[] frame(byte[] dst, byte[] src, int length, int sequence, long seed) {
        if (length < 18 || length > E1000eRegisters.MAX_FRAME) {
            throw new IllegalArgumentException("a test frame is 18 to 1514 bytes, not " + length);
        }
        byte[] f = new byte[length];
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) (ETHERTYPE >>> 8);
        f[13] = (byte) ETHERTYPE;
        f[14] = (byte) (sequence >>> 24);
        f[15] = (byte) (sequence >>> 16);
        f[16] = (byte) (sequence >>> 8);
        f[17] = (byte) sequence;
        byte[] payload = new byte[length - 18];
        new SplittableRandom(seed ^ sequence * 0x9e3779b97f4a7c15L).nextBytes(payload);
        System.arraycopy(payload, 0, f, 18, payload.length);
        return f;
    }

    /**
     * Sends one frame of each length in {@code lengths}, {@code batch} at a time (each batch waits until the
     * receiver has it all, or {@code limit} passes), and compares what {@code rx} receives with what was sent.
     */
    public static Result exchange(E1000eNic tx, E1000eNic rx, int[] lengths, int batch, long seed, Duration limit) {
        PacketPool txPool = tx.pool();
        PacketPool rxPool = rx.pool();
        byte[] dst = rx.macAddress();
        byte[] src = tx.macAddress();
        int[] handles = new int[batch];
        int[] got = new int[batch];
        byte[] back = new byte[PacketPool.BUFFER_BYTES];
        int sent = 0;
        int received = 0;
        int verified = 0;
        String mismatch = "";
        long deadline = System.nanoTime() + limit.toNanos();
        for (int start = 0; start < lengths.length; start += batch) {
            int n = Math.min(batch, lengths.length - start);
            byte[][] frames = new byte[n][];
            int have = txPool.allocBatch(handles, 0, n);
            if (have < n) {
                txPool.freeBatch(handles, 0, have);
                throw new IllegalStateException("the sender's pool has " + txPool.available() + " free buffers, "
                        + "fewer than a batch of " + n);
            }
            for (int i = 0; i < n; i++) {
                frames[i] = frame(dst, src, lengths[start + i], start + i, seed);
                txPool.write(handles[i], frames[i], 0, frames[i].length);
            }
            int queued = 0;
            while (queued < n && System.nanoTime() < deadline) {
                queued += tx.transmit(handles, queued, n - queued);
            }
            if (queued < n) {
                txPool.freeBatch(handles, queued, n - queued);
            }
            sent += queued;
            int arrived = 0;
            while (arrived < queued && System.nanoTime() < deadline) {
                int k = rx.receive(got, 0, batch);
                for (int i = 0; i < k; i++) {
                    int len = rxPool.read(got[i], back, 0);
                    rxPool.free(got[i]);
                    byte[] expected = frames[arrived + i];
                    // a frame shorter than 60 bytes arrives padded to 60 (TCTL.PSP); the rest must be identical
                    boolean same = len >= expected.length && Arrays.equals(expected, 0, expected.length, back, 0, expected.length)
                            && (len == expected.length || expected.length < E1000eRegisters.MIN_FRAME);
                    if (same) {
                        verified++;
                    } else if (mismatch.isEmpty()) {
                        mismatch = "frame " + (start + arrived + i) + " (" + expected.length + " bytes sent) arrived as "
                                + len + " bytes, first difference at byte "
                                + Arrays.mismatch(expected, Arrays.copyOf(back, len));
                    }
                }
                arrived += k;
                received += k;
                if (k == 0) {
                    tx.reclaim();
                    Thread.onSpinWait();
                }
            }
            tx.reclaim();
        }
        return new Result(sent, received, verified, mismatch);
    }

    /** Lengths {@code from}, {@code from + step}, ... up to and including {@code to} (which is always included). */
    public static int[] lengths(int from, int to, int step) {
        int n = (to - from) / step + 1;
        int[] l = new int[(to - from) % step == 0 ? n : n + 1];
        for (int i = 0; i < n; i++) {
            l[i] = from + i * step;
        }
        l[l.length - 1] = to;
        return l;
    }
}
