package io.dmadirect.hil;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.drivers.edu.EduDriver;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A driver at work while the agent is attached to its JVM: a thread that, every 50 ms, allocates a
 * coherent buffer, DMAs a fresh pattern RAM -> edu from it, maps a heap array FROM_DEVICE and DMAs it
 * back, unmaps, compares and frees. Each round allocates and maps, so an attach meets DMA API calls in
 * flight. It uses the edu's device buffer at {@link #OFFSET}, away from what the tests transfer, and
 * keeps the first failure (an exception or different bytes) for {@link #stop()}.
 */
final class EduTraffic implements AutoCloseable {
    /** The upper part of the edu's 4 KiB buffer; the tests that run meanwhile use at most the first 3 KiB. */
    static final int OFFSET = 3072;
    /** The bytes of each round's buffer and transfer. */
    static final int SIZE = EduDriver.MAX_TRANSFER - OFFSET;

    private final EduDriver edu;
    private final Thread thread;
    private final AtomicLong rounds = new AtomicLong();
    private volatile boolean stopping;
    private volatile Throwable failure;

    private EduTraffic(EduDriver edu) {
        this.edu = edu;
        this.thread = new Thread(this::loop, "hil-edu-traffic");
        this.thread.setDaemon(true);
    }

    static EduTraffic start(EduDriver edu) {
        EduTraffic t = new EduTraffic(edu);
        t.thread.start();
        return t;
    }

    /** Round trips completed so far, all with identical bytes (a difference ends the thread). */
    long rounds() {
        return rounds.get();
    }

    private void loop() {
        try {
            for (long seed = 0; !stopping; seed++) {
                round(edu.dma(), seed);
                rounds.incrementAndGet();
                TimeUnit.MILLISECONDS.sleep(50);
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /**
     * One round trip. A method of its own: a method entered after an attach runs the code the agent
     * rewrote (its call sites named), while {@link #loop} keeps running the code it entered with.
     */
    private void round(DmaDevice dma, long seed) {
        byte[] pattern = NvmeRig.pattern(SIZE, 9_000 + seed);
        byte[] back = new byte[SIZE];
        try (DmaBuffer src = dma.allocCoherent(SIZE)) {
            src.cpuView().put(pattern);
            edu.toDevice(src.dmaAddress(), OFFSET, SIZE);
        }
        try (DmaMapping in = dma.map(back, 0, SIZE, DmaDirection.FROM_DEVICE)) {
            edu.fromDevice(OFFSET, in.dmaAddress(), SIZE);
        }
        if (!Arrays.equals(pattern, back)) {
            throw new AssertionError("edu traffic round " + seed + ": the bytes differ at "
                    + Arrays.mismatch(pattern, back));
        }
    }

    /** Stops the thread; the number of rounds, all identical, or the first failure. */
    long stop() throws InterruptedException {
        stopping = true;
        thread.join(60_000);
        if (thread.isAlive()) {
            throw new AssertionError("the edu traffic thread did not stop within 60 s (a hung DMA?)");
        }
        if (failure != null) {
            throw new AssertionError("the edu traffic failed after " + rounds.get() + " good rounds", failure);
        }
        return rounds.get();
    }

    @Override
    public void close() throws InterruptedException {
        if (thread.isAlive()) {
            stop();
        }
    }
}
