package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.*;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.Sizes;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.MmioRegion;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.function.IntConsumer;

/**
 * The rings of one queue pair: a submission queue (SQ) and its completion queue (CQ) in coherent DMA
 * memory, their doorbells, and the command identifiers (cids) that tie a completion to its command. What
 * a command carries (data pointers, PRP lists) is {@link NvmeQueuePair}'s concern; here a command is an
 * opcode and its dwords.
 *
 * <p>Notation and invariants:
 * <ul>
 * <li>{@code sqTail} is the next SQ slot to fill; the controller learns it from the SQ tail doorbell.
 * <li>{@code cqHead} is the next CQ entry to look at. It is new when its phase bit equals {@code phase},
 *     which flips each time the head wraps, so a CQ needs no clearing between laps.
 * <li>There are {@code depth - 1} cids: a full SQ holds {@code depth - 1} entries (the tail may not catch
 *     the head), so with one cid per entry the SQ never overflows.
 * <li>Each cid is in one place: free ({@code freeCids[0, freeTop)}), in flight, or ready (completed,
 *     {@code ready[0, readyCount)}, until {@link #poll} hands it to the caller). A synchronous waiter
 *     takes its own completion, so only asynchronous ones become ready. A timed-out cid stays in flight,
 *     marked abandoned, until its late completion frees it: reusing it earlier would let that completion
 *     be taken for a new command's.
 * </ul>
 *
 * <p>Not thread-safe, like its {@link NvmeQueuePair}: one thread at a time; the controller serialises
 * admin commands.
 */
final class NvmeQueueRing {
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Asks the controller to abort a timed-out command; returns what happened, for the timeout's message. */
    @FunctionalInterface
    interface Abort {
        String abort(int sqid, int cid);
    }

    private final MmioRegion regs;
    private final Abort abort;
    private final int qid;
    private final int depth;
    private final int sqDoorbell;
    private final int cqDoorbell;
    private final DmaBuffer sqMemory;
    private final DmaBuffer cqMemory;
    private final ByteBuffer sq;
    private final ByteBuffer cq;
    private final Interrupt irq;
    private final IntConsumer onRelease;

    private int sqTail;
    private int cqHead;
    private int phase = 1;
    // command slots, indexed by cid; parallel arrays so that a command allocates nothing
    private final int[] freeCids;
    private int freeTop;
    private final boolean[] sync;
    private final boolean[] done;
    private final boolean[] abandoned;
    private final int[] status;
    private final int[] result;
    // what each command was, kept only to name it in exceptions
    private final int[] opcode;
    private final int[] nsid;
    private final long[] arg;
    private final int[] blocks;
    private final int[] ready;
    private int readyCount;
    private long submitted;
    private long completed;
    private long interruptWaits;
    private boolean closed;

    NvmeQueueRing(DmaDevice dma, MmioRegion regs, Abort abort, int qid, int depth, int stride, Interrupt irq) {
        this(dma, regs, abort, qid, depth, stride, irq, cid -> { });
    }

    /**
     * @param onRelease told each time a cid is free again (its command completed, or was never submitted), after
     *                  the cid is back in the free list, so that what the command held (its PRP list) is freed
     */
    NvmeQueueRing(DmaDevice dma, MmioRegion regs, Abort abort, int qid, int depth, int stride, Interrupt irq,
            IntConsumer onRelease) {
        this.onRelease = onRelease;
        this.regs = regs;
        this.abort = abort;
        this.qid = qid;
        this.depth = depth;
        this.sqDoorbell = submissionDoorbell(qid, stride);
        this.cqDoorbell = completionDoorbell(qid, stride);
        this.irq = irq;
        sqMemory = dma.allocCoherent(roundUpPage((long) depth * SQE_SIZE));
        try {
            cqMemory = dma.allocCoherent(roundUpPage((long) depth * CQE_SIZE));
        } catch (RuntimeException e) {
            sqMemory.close();
            throw e;
        }
        sq = sqMemory.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        cq = cqMemory.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        int slots = depth - 1;
        freeCids = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeCids[i] = slots - 1 - i;
        }
        freeTop = slots;
        sync = new boolean[slots];
        done = new boolean[slots];
        abandoned = new boolean[slots];
        status = new int[slots];
        result = new int[slots];
        opcode = new int[slots];
        nsid = new int[slots];
        arg = new long[slots];
        blocks = new int[slots];
        ready = new int[slots];
    }

    private static long roundUpPage(long n) {
        return (n + PAGE - 1) & -PAGE;
    }

    int id() {
        return qid;
    }

    int depth() {
        return depth;
    }

    int capacity() {
        return freeCids.length;
    }

    int outstanding() {
        return freeCids.length - freeTop - readyCount;
    }

    boolean interrupts() {
        return irq != null;
    }

    long submittedCount() {
        return submitted;
    }

    long completedCount() {
        return completed;
    }

    long interruptWaits() {
        return interruptWaits;
    }

    DmaBuffer submissionQueue() {
        return sqMemory;
    }

    DmaBuffer completionQueue() {
        return cqMemory;
    }

    /**
     * A free cid for the next command; the caller must {@link #submit} it. A full ring reaps first, since
     * completions the controller has posted may free cids nobody polled for yet.
     */
    int take() {
        if (closed) {
            throw new IllegalStateException("NVMe queue pair " + qid + " is closed");
        }
        if (freeTop == 0) {
            reap();
            if (freeTop == 0) {
                throw new IllegalStateException("NVMe queue pair " + qid + " is full: " + capacity()
                        + " commands in flight; poll() for completions first");
            }
        }
        int cid = freeCids[--freeTop];
        sync[cid] = false;
        done[cid] = false;
        return cid;
    }

    private void release(int cid) {
        freeCids[freeTop++] = cid;
        onRelease.accept(cid);
    }

    /** Gives back a cid {@link #take}n for a command that was never {@link #submit}ted (building it failed). */
    void cancel(int cid) {
        release(cid);
    }

    /** Writes the command into the SQ and rings the tail doorbell. */
    void submit(int cid, int op, int ns, long prp1, long prp2, int cdw10, int cdw11, int cdw12, int cdw13) {
        opcode[cid] = op;
        nsid[cid] = ns;
        // Read and Write carry the LBA in cdw10-11 and the 0-based block count in cdw12, so one record
        // serves both admin and I/O commands' messages
        arg[cid] = cdw10 & 0xffffffffL | (long) cdw11 << 32;
        blocks[cid] = cdw12 + 1;
        int o = sqTail * SQE_SIZE;
        sq.putInt(o, op | cid << 16);
        sq.putInt(o + 4, ns);
        sq.putLong(o + 8, 0);
        sq.putLong(o + 16, 0);
        sq.putLong(o + 24, prp1);
        sq.putLong(o + 32, prp2);
        sq.putInt(o + 40, cdw10);
        sq.putInt(o + 44, cdw11);
        sq.putInt(o + 48, cdw12);
        sq.putInt(o + 52, cdw13);
        sq.putInt(o + 56, 0);
        sq.putInt(o + 60, 0);
        sqTail = sqTail + 1 == depth ? 0 : sqTail + 1;
        VarHandle.fullFence(); // the entry (and any PRP list) is in memory before the doorbell
        regs.write32(sqDoorbell, sqTail);
        submitted++;
    }

    /** Hands the ready completions to {@code handler}, freeing each cid before its call. */
    int poll(NvmeQueuePair.CompletionHandler handler) {
        reap();
        int n = readyCount;
        for (int i = 0; i < n; i++) {
            int cid = ready[i];
            int st = status[cid];
            release(cid);
            handler.completed(cid, st);
        }
        readyCount = 0;
        return n;
    }

    int await(NvmeQueuePair.CompletionHandler handler, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (readyCount == 0 && reap() == 0 && System.nanoTime() < deadline) {
            idle(deadline);
        }
        return poll(handler);
    }

    /** Takes what the controller has completed off the CQ; returns how many entries. */
    private int reap() {
        return reap(true);
    }

    /** As {@link #reap()}; {@code ringDoorbell} false when the controller is being reset and has no queues to tell. */
    private int reap(boolean ringDoorbell) {
        int n = 0;
        for (;;) {
            int o = cqHead * CQE_SIZE;
            int dw3 = (int) INT.getVolatile(cq, o + 12);
            if ((dw3 >>> 16 & 1) != phase) {
                break;
            }
            int cid = dw3 & 0xffff;
            int st = dw3 >>> 17;
            int dw0 = cq.getInt(o);
            if (++cqHead == depth) {
                cqHead = 0;
                phase ^= 1;
            }
            n++;
            completed++;
            if (cid >= abandoned.length) {
                continue; // not ours; cannot happen with a correct controller
            }
            if (abandoned[cid]) {
                abandoned[cid] = false; // the late completion of a timed-out command: now the cid is free
                release(cid);
                continue;
            }
            status[cid] = st;
            result[cid] = dw0;
            done[cid] = true;
            if (!sync[cid]) {
                ready[readyCount++] = cid;
            }
        }
        if (n > 0 && ringDoorbell) {
            regs.write32(cqDoorbell, cqHead);
        }
        return n;
    }

    /**
     * Waits for submitted command {@code cid} and frees it; returns completion dword 0.
     *
     * @throws NvmeException        when the command completed with an error status
     * @throws NvmeTimeoutException when {@code limit} passed first
     */
    int await(int cid, Duration limit) {
        sync[cid] = true;
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done[cid]) {
            if (reap() == 0 && !done[cid]) {
                if (System.nanoTime() > deadline) {
                    throw timedOut(cid, limit);
                }
                idle(deadline);
            }
        }
        // an async completion reaped while waiting was queued for poll(); this one was not
        int st = status[cid];
        int dw0 = result[cid];
        release(cid);
        if (st != 0) {
            throw new NvmeException(describe(cid), qid, st);
        }
        return dw0;
    }

    private void idle(long deadline) {
        if (irq != null) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            interruptWaits++;
            irq.await(Duration.ofMillis(Math.min(left, 100)));
        } else {
            Thread.onSpinWait();
        }
    }

    private NvmeTimeoutException timedOut(int cid, Duration limit) {
        abandoned[cid] = true;
        String outcome;
        if (qid == 0) {
            outcome = "admin commands are not aborted; the controller needs a reset (close and attach again)";
        } else {
            outcome = abort.abort(qid, cid);
        }
        // the abort may have let the command complete: then its cid came back through reap()
        return new NvmeTimeoutException(describe(cid), qid, cid, limit, outcome);
    }

    /** Names a command for messages: opcode and arguments. */
    String describe(int cid) {
        int op = opcode[cid];
        if (qid != 0) {
            return switch (op) {
                case IO_READ -> "Read (nsid " + nsid[cid] + ", LBA " + arg[cid] + ", " + blocks[cid] + " blocks)";
                case IO_WRITE -> "Write (nsid " + nsid[cid] + ", LBA " + arg[cid] + ", " + blocks[cid] + " blocks)";
                case IO_FLUSH -> "Flush (nsid " + nsid[cid] + ")";
                default -> String.format("I/O opcode 0x%02x", op);
            };
        }
        int cdw10 = (int) arg[cid];
        return switch (op) {
            case ADMIN_IDENTIFY -> "Identify (CNS " + (cdw10 & 0xff) + ", nsid " + nsid[cid] + ")";
            case ADMIN_CREATE_SQ -> "Create I/O Submission Queue " + (cdw10 & 0xffff);
            case ADMIN_CREATE_CQ -> "Create I/O Completion Queue " + (cdw10 & 0xffff);
            case ADMIN_DELETE_SQ -> "Delete I/O Submission Queue " + (cdw10 & 0xffff);
            case ADMIN_DELETE_CQ -> "Delete I/O Completion Queue " + (cdw10 & 0xffff);
            case ADMIN_ABORT -> "Abort (SQ " + (cdw10 & 0xffff) + ", cid " + (cdw10 >>> 16) + ")";
            case ADMIN_SET_FEATURES -> String.format("Set Features (FID 0x%02x)", cdw10 & 0xff);
            default -> String.format("admin opcode 0x%02x", op);
        };
    }

    boolean closed() {
        return closed;
    }

    /**
     * Starts the rings again after the controller was reset, on the same memory, as the kernel's
     * {@code nvme_init_queue} does: the controller forgot both queues, so the tail, head and phase start over and
     * the CQ is cleared (an old entry with phase 1 would read as new). Every command in flight is completed
     * with {@link NvmeQueuePair#STATUS_HOST_ABORTED} (the kernel's {@code nvme_cancel_request}), after the
     * completions the controller posted before the reset are taken (they keep their status): an
     * asynchronous one is handed to the next {@link #poll}, and a timed-out one, whose completion can no longer
     * come, frees its cid (and its PRP list) now.
     *
     * @return the commands that were in flight
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/nvme/host/pci.c">nvme_init_queue</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/nvme/host/core.c">nvme_cancel_request</a>
     */
    int restartAfterReset() {
        if (closed) {
            throw new IllegalStateException("NVMe queue pair " + qid + " is closed");
        }
        // What the controller completed before the reset is in the CQ still (Linux: nvme_reap_pending_cqes).
        reap(false);
        boolean[] free = new boolean[freeCids.length];
        for (int i = 0; i < freeTop; i++) {
            free[freeCids[i]] = true;
        }
        int inFlight = 0;
        for (int cid = 0; cid < freeCids.length; cid++) {
            if (free[cid] || done[cid]) {
                continue; // free, or completed before the reset and waiting for poll(): its status stands
            }
            inFlight++;
            if (abandoned[cid]) {
                abandoned[cid] = false;
                release(cid);
                continue;
            }
            status[cid] = NvmeQueuePair.STATUS_HOST_ABORTED;
            result[cid] = 0;
            done[cid] = true;
            if (!sync[cid]) {
                ready[readyCount++] = cid;
            }
        }
        cq.put(0, new byte[cq.capacity()]);
        sqTail = 0;
        cqHead = 0;
        phase = 1;
        return inFlight;
    }

    /** Refuses further commands and frees the interrupt and the queue memory. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (irq != null) {
            NvmeController.closeQuietly(irq);
        }
        freeQueues();
    }

    /**
     * Frees the queue memory but not the interrupt: for a pair that failed to construct, whose vector the
     * controller still owns and closes ({@code createIoQueues}).
     */
    void freeQueues() {
        sqMemory.close();
        cqMemory.close();
    }

    @Override
    public String toString() {
        return (qid == 0 ? "admin queue pair" : "I/O queue pair " + qid) + " (depth " + depth + ", "
                + (irq != null ? "MSI-X " + irq.vector() : "polled") + ", SQ " + Sizes.hex(sqMemory.dmaAddress())
                + ", CQ " + Sizes.hex(cqMemory.dmaAddress()) + ")";
    }
}
