package io.dmadirect.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DmaUsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The gate of platforms and devices: enter, exit, close, and the wait that nothing inside is missed. */
class LifecycleTest {

    @Test
    void enterAfterCloseThrowsTheDocumentedExceptionAndTryEnterSaysNo() {
        Lifecycle gate = new Lifecycle(() -> "device test");
        gate.exit(gate.enter("warm up"));
        assertTrue(gate.close());
        assertFalse(gate.close(), "a second close is not the one that closed");
        DmaUsageException e = assertThrows(DmaUsageException.class, () -> gate.enter("allocate DMA memory"));
        assertEquals("failed to allocate DMA memory: device test is closed", e.getMessage());
        assertEquals(-1, gate.tryEnter());
        assertEquals(0, gate.inFlight(), "a refused enter leaves no count behind");
        assertTrue(gate.awaitQuiescence(0));
    }

    @Test
    void closeWaitsForTheOperationInsideAndTimesOutWhileItStays() throws Exception {
        Lifecycle gate = new Lifecycle(() -> "device test");
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread operation = new Thread(() -> {
            int ticket = gate.enter("work");
            inside.countDown();
            try {
                leave.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                gate.exit(ticket);
            }
        });
        operation.start();
        inside.await();
        assertTrue(gate.close());
        assertEquals(1, gate.inFlight());
        assertFalse(gate.awaitQuiescence(TimeUnit.MILLISECONDS.toNanos(50)), "the operation is still inside");
        leave.countDown();
        assertTrue(gate.awaitQuiescence(TimeUnit.SECONDS.toNanos(10)));
        operation.join();
    }

    /** Close from inside an operation of the same gate cannot wait for itself: the bounded wait says so. */
    @Test
    void closeFromInsideAnOperationTimesOutInsteadOfHanging() {
        Lifecycle gate = new Lifecycle(() -> "device test");
        int ticket = gate.enter("callback");
        assertTrue(gate.close());
        assertFalse(gate.awaitQuiescence(TimeUnit.MILLISECONDS.toNanos(20)));
        gate.exit(ticket);
        assertTrue(gate.awaitQuiescence(0));
    }

    /**
     * The Dekker pairing under load: threads enter and, inside, check a flag the closer sets only after
     * its wait returned. Any operation seen inside after the wait would be one the gate missed.
     */
    @Test
    void noOperationPassesTheGateAfterTheWaitReturned() throws Exception {
        for (int round = 0; round < 200; round++) {
            Lifecycle gate = new Lifecycle(() -> "device race");
            AtomicBoolean freed = new AtomicBoolean();
            AtomicLong missed = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        while (true) {
                            int ticket = gate.enter("work");
                            try {
                                if (freed.get()) {
                                    missed.incrementAndGet();
                                }
                            } finally {
                                gate.exit(ticket);
                            }
                        }
                    } catch (DmaUsageException closed) {
                        // the documented end
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                thread.start();
                threads.add(thread);
            }
            Thread.onSpinWait();
            gate.close();
            assertTrue(gate.awaitQuiescence(TimeUnit.SECONDS.toNanos(10)));
            freed.set(true);
            for (Thread thread : threads) {
                thread.join(10_000);
            }
            assertEquals(null, failure.get());
            assertEquals(0, missed.get(), "an operation ran after close's wait returned in round " + round);
            assertEquals(0, gate.inFlight());
        }
    }

    @Test
    void stripesArePowersOfTwoWithinBounds() {
        assertEquals(16, Lifecycle.stripes(1));
        assertEquals(16, Lifecycle.stripes(2));
        assertEquals(16, Lifecycle.stripes(3));
        assertEquals(32, Lifecycle.stripes(9));
        assertEquals(16, Lifecycle.stripes(8));
        assertEquals(256, Lifecycle.stripes(1000));
    }
}
