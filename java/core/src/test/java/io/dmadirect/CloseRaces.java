package io.dmadirect;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/** Threads racing a close: each must finish its work or be refused with a {@link DmaUsageException} saying "closed". */
public final class CloseRaces {
    private CloseRaces() {
    }

    /**
     * Starts {@code threads} threads together, each running {@code body} with its index, closes with
     * {@code close} while they run, and waits for them.
     *
     * @throws AssertionError when a thread failed other than by a clear refusal
     */
    public static void race(int threads, IntConsumer body, Runnable close) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> wrong = new AtomicReference<>();
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int index = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    body.accept(index);
                } catch (DmaUsageException refused) {
                    if (!refused.getMessage().contains("closed")) {
                        wrong.compareAndSet(null, refused);
                    }
                } catch (Throwable e) {
                    wrong.compareAndSet(null, e);
                }
            });
            thread.start();
            started.add(thread);
        }
        start.countDown();
        close.run();
        for (Thread thread : started) {
            thread.join();
        }
        if (wrong.get() != null) {
            throw new AssertionError("a racing call failed other than by a clear refusal", wrong.get());
        }
    }
}
