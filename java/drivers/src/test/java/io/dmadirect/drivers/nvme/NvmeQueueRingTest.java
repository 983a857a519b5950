package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.Sizes;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.sim.SimulatedPlatform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ring against a controller played by the test: it reads the SQ entries the ring wrote and posts
 * completions with the phase bit the controller would use, on a simulated platform.
 */
class NvmeQueueRingTest {
    private static final int QID = 1;
    private static final int DEPTH = 4;
    private static final int STRIDE = 4;

    private SimulatedPlatform platform;
    private DmaDevice dma;
    private final Doorbells doorbells = new Doorbells();
    private final List<String> aborts = new ArrayList<>();
    private NvmeQueueRing ring;
    // the controller's side of the rings
    private int sqHead;
    private ControllerCompletions completions;

    @BeforeEach
    void setUp() {
        platform = SimulatedPlatform.builder().region(0, 16 * Sizes.MiB).build();
        dma = platform.attach(DeviceProperties.simple("nvme-sim"));
        ring = new NvmeQueueRing(dma, doorbells, (sqid, cid) -> {
            aborts.add(sqid + "/" + cid);
            return "the controller did not abort it (it may still complete)";
        }, QID, DEPTH, STRIDE, null);
        completions = new ControllerCompletions(ring);
    }

    @AfterEach
    void tearDown() {
        ring.close();
        platform.close();
    }

    @Test
    void aCommandIsWrittenAtTheTailAndItsCompletionAnswersTheWait() {
        int cid = ring.take();
        ring.submit(cid, IO_READ, 1, 0x10000, 0x11000, 7, 0, 7, 0);
        assertEquals(1, doorbells.get(submissionDoorbell(QID, STRIDE)));
        ByteBuffer sqe = nextSubmission();
        assertEquals(IO_READ | cid << 16, sqe.getInt(0));
        assertEquals(1, sqe.getInt(4));
        assertEquals(0x10000, sqe.getLong(24));
        assertEquals(0x11000, sqe.getLong(32));
        assertEquals(7, sqe.getInt(40));
        assertEquals(7, sqe.getInt(48));
        complete(cid, 0, 0xabc);
        assertEquals(0xabc, ring.await(cid, Duration.ofSeconds(1)));
        assertEquals(1, doorbells.get(completionDoorbell(QID, STRIDE)));
        assertEquals(0, ring.outstanding());
    }

    @Test
    void thePhaseFlipsWhenTheCompletionQueueWraps() {
        for (int i = 0; i < 3 * DEPTH; i++) {
            int cid = ring.take();
            ring.submit(cid, IO_FLUSH, 1, 0, 0, 0, 0, 0, 0);
            nextSubmission();
            complete(cid, 0, i);
            assertEquals(i, ring.await(cid, Duration.ofSeconds(1)), "command " + i);
        }
        assertEquals(3 * DEPTH, ring.submittedCount());
        assertEquals(3 * DEPTH, ring.completedCount());
        assertEquals((3 * DEPTH) % DEPTH, doorbells.get(completionDoorbell(QID, STRIDE)));
    }

    @Test
    void anErrorStatusNamesTheCommand() {
        int cid = ring.take();
        ring.submit(cid, IO_READ, 1, 0x10000, 0, 131072, 0, 7, 0);
        complete(cid, 0x4080, 0);
        NvmeException e = assertThrows(NvmeException.class, () -> ring.await(cid, Duration.ofSeconds(1)));
        assertTrue(e.getMessage().startsWith("NVMe Read (nsid 1, LBA 131072, 8 blocks) on queue 1 failed: "),
                e.getMessage());
        assertEquals(0x4080, e.status());
        assertEquals(0, ring.outstanding(), "a failed command frees its cid");
    }

    @Test
    void aFullRingRefusesTheNextCommand() {
        for (int i = 0; i < ring.capacity(); i++) {
            ring.submit(ring.take(), IO_FLUSH, 1, 0, 0, 0, 0, 0, 0);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, ring::take);
        assertEquals("NVMe queue pair 1 is full: 3 commands in flight; poll() for completions first", e.getMessage());
    }

    @Test
    void aPostedCompletionFreesNoCidUntilItIsPolled() {
        int first = ring.take();
        ring.submit(first, IO_FLUSH, 1, 0, 0, 0, 0, 0, 0);
        ring.submit(ring.take(), IO_FLUSH, 1, 0, 0, 0, 0, 0, 0);
        ring.submit(ring.take(), IO_FLUSH, 1, 0, 0, 0, 0, 0, 0);
        complete(first, 0, 0);
        assertThrows(IllegalStateException.class, ring::take, "reaped, the completion waits for poll()");
        List<Integer> polled = new ArrayList<>();
        assertEquals(1, ring.poll((cid, status) -> polled.add(cid)));
        assertEquals(List.of(first), polled);
        assertEquals(first, ring.take());
    }

    @Test
    void anAsynchronousCompletionSeenWhileWaitingIsLeftForPoll() {
        int async = ring.take();
        ring.submit(async, IO_WRITE, 1, 0x10000, 0, 0, 0, 0, 0);
        int sync = ring.take();
        ring.submit(sync, IO_FLUSH, 1, 0, 0, 0, 0, 0, 0);
        complete(async, 0x0002, 0);
        complete(sync, 0, 5);
        assertEquals(5, ring.await(sync, Duration.ofSeconds(1)));
        assertEquals(0, ring.outstanding(), "completed, though not polled yet");
        Map<Integer, Integer> seen = new HashMap<>();
        assertEquals(1, ring.poll(seen::put));
        assertEquals(Map.of(async, 0x0002), seen);
        assertEquals(0, ring.outstanding());
        assertEquals(0, ring.poll((cid, status) -> seen.clear()));
    }

    @Test
    void aTimedOutCidIsHeldUntilItsLateCompletion() {
        int cid = ring.take();
        ring.submit(cid, IO_READ, 1, 0x10000, 0, 42, 0, 0, 0);
        NvmeTimeoutException e = assertThrows(NvmeTimeoutException.class,
                () -> ring.await(cid, Duration.ofMillis(1)));
        assertEquals("NVMe Read (nsid 1, LBA 42, 1 blocks) on queue 1 (cid " + cid + ") did not complete in 1 ms;"
                + " the controller did not abort it (it may still complete)", e.getMessage());
        assertEquals(List.of(QID + "/" + cid), aborts);
        assertEquals(1, ring.outstanding());
        List<Integer> polled = new ArrayList<>();
        for (int i = 0; i < ring.capacity() - 1; i++) {
            assertTrue(ring.take() != cid, "the abandoned cid is not handed out again");
        }
        complete(cid, 0, 0);
        assertEquals(0, ring.poll((c, status) -> polled.add(c)), "a late completion is nobody's to poll");
        assertEquals(cid, ring.take(), "its late completion freed the cid");
    }

    @Test
    void anAdminTimeoutIsNotAborted() {
        NvmeQueueRing admin = new NvmeQueueRing(dma, doorbells, (sqid, cid) -> {
            throw new AssertionError("admin commands are not aborted");
        }, 0, DEPTH, STRIDE, null);
        try {
            int cid = admin.take();
            admin.submit(cid, ADMIN_IDENTIFY, 0, 0x20000, 0, CNS_CONTROLLER, 0, 0, 0);
            NvmeTimeoutException e = assertThrows(NvmeTimeoutException.class,
                    () -> admin.await(cid, Duration.ofMillis(1)));
            assertTrue(e.getMessage().startsWith("NVMe Identify (CNS 1, nsid 0) on queue 0 (cid " + cid + ")"),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith("admin commands are not aborted; the controller needs a reset (close"
                    + " and attach again)"), e.getMessage());
        } finally {
            admin.close();
        }
    }

    @Test
    void aClosedRingRefusesCommandsAndClosesOnce() {
        ring.close();
        assertTrue(ring.closed());
        IllegalStateException e = assertThrows(IllegalStateException.class, ring::take);
        assertEquals("NVMe queue pair 1 is closed", e.getMessage());
        ring.close();
    }

    @Test
    void aResetAbortsWhatIsInFlightKeepsWhatCompletedAndStartsTheRingsOver() {
        int inFlight = ring.take();
        ring.submit(inFlight, IO_READ, 1, 0x10000, 0, 1, 0, 0, 0);
        int completedBefore = ring.take();
        ring.submit(completedBefore, IO_WRITE, 1, 0x11000, 0, 2, 0, 0, 0);
        complete(completedBefore, 0, 0); // posted before the reset, never reaped
        int timedOut = ring.take();
        ring.submit(timedOut, IO_READ, 1, 0x12000, 0, 3, 0, 0, 0);
        assertThrows(NvmeTimeoutException.class, () -> ring.await(timedOut, Duration.ofMillis(1)));
        // a completion the controller posted before the reset would otherwise be read again after it
        int doorbellsBefore = doorbells.writes();

        assertEquals(2, ring.restartAfterReset(), "the read in flight and the timed-out one");

        assertEquals(doorbellsBefore, doorbells.writes(), "no doorbell of a controller being reset is rung");
        Map<Integer, Integer> polled = new HashMap<>();
        assertEquals(2, ring.poll(polled::put));
        assertEquals(Map.of(inFlight, NvmeQueuePair.STATUS_HOST_ABORTED, completedBefore, 0), polled);
        assertTrue(NvmeQueuePair.describeStatus(NvmeQueuePair.STATUS_HOST_ABORTED).contains("Host Aborted Command"),
                NvmeQueuePair.describeStatus(NvmeQueuePair.STATUS_HOST_ABORTED));
        assertEquals(0, ring.outstanding(), "the timed-out cid is free: its completion can no longer come");
        // the controller starts over too: SQ slot 0, CQ entry 0 with phase 1
        sqHead = 0;
        completions = new ControllerCompletions(ring);
        int next = ring.take();
        ring.submit(next, IO_READ, 1, 0x13000, 0, 4, 0, 0, 0);
        assertEquals(1, doorbells.get(submissionDoorbell(QID, STRIDE)), "the tail starts at 0 again");
        assertEquals(IO_READ | next << 16, nextSubmission().getInt(0));
        complete(next, 0, 0x55);
        assertEquals(0x55, ring.await(next, Duration.ofSeconds(1)));
        assertEquals(1, doorbells.get(completionDoorbell(QID, STRIDE)), "the head starts at 0 again");
    }

    @Test
    void aClosedRingCannotBeRestarted() {
        ring.close();
        assertEquals("NVMe queue pair 1 is closed",
                assertThrows(IllegalStateException.class, ring::restartAfterReset).getMessage());
    }

    @Test
    void describesItselfAsItsPair() {
        assertEquals("I/O queue pair 1 (depth 4, polled, SQ " + Sizes.hex(ring.submissionQueue().dmaAddress())
                + ", CQ " + Sizes.hex(ring.completionQueue().dmaAddress()) + ")", ring.toString());
        assertFalse(ring.interrupts());
    }

    private ByteBuffer nextSubmission() {
        ByteBuffer sq = ring.submissionQueue().cpuView().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer entry = sq.slice(sqHead * SQE_SIZE, SQE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        sqHead = (sqHead + 1) % DEPTH;
        return entry;
    }

    private void complete(int cid, int status, int dw0) {
        completions.post(cid, status, dw0);
    }

    /** BAR 0 reduced to what the ring touches: the last value written to each doorbell; also for {@link NvmePrpListsTest}. */
    static final class Doorbells implements MmioRegion {
        private final Map<Long, Integer> written = new HashMap<>();
        private int writes;

        int get(int offset) {
            return written.getOrDefault((long) offset, -1);
        }

        @Override
        public int index() {
            return 0;
        }

        @Override
        public long size() {
            return 0x2000;
        }

        @Override
        public boolean mapped() {
            return true;
        }

        @Override
        public int read8(long offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read16(long offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read32(long offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read64(long offset) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write8(long offset, int value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write16(long offset, int value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void write32(long offset, int value) {
            written.put(offset, value);
            writes++;
        }

        /** {@return how many doorbell writes there were} */
        int writes() {
            return writes;
        }

        @Override
        public void write64(long offset, long value) {
            throw new UnsupportedOperationException();
        }
    }
}
