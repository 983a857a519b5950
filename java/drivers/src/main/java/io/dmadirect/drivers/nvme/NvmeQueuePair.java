package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.*;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.Sizes;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.MmioRegion;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Objects;

/**
 * A submission queue and its completion queue, both in coherent DMA memory, with one page per command
 * slot for PRP lists.
 *
 * <p><b>Thread safety is per queue pair:</b> a pair is not safe for use by several threads at once.
 * Give each thread its own pair ({@link NvmeController#queuePair(int)}); pairs are independent and run
 * in parallel without locks between them. Admin commands go through the controller, which serialises
 * them.
 *
 * <p>Completion is polled (the CQ phase bit in memory; no system call) or, when the controller was
 * opened with interrupts, awaited on the pair's MSI-X vector. Synchronous calls ({@link #read},
 * {@link #write}, {@link #flush}) submit and wait; {@link #submitRead}/{@link #submitWrite} with
 * {@link #poll} keep many commands in flight.
 */
public final class NvmeQueuePair implements AutoCloseable {
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    /** Heap arrays always bounce, and one mapping may not exceed the bounce pool's 256 KiB segment. */
    static final long HEAP_CHUNK = 128 * Sizes.KiB;

    /** Receives the completions of commands sent with {@link #submitRead}/{@link #submitWrite}. */
    @FunctionalInterface
    public interface CompletionHandler {
        /** {@code status} 0 is success; otherwise {@link NvmeStatus} names it. The cid is free again after the call. */
        void completed(int cid, int status);
    }

    private final NvmeController controller;
    private final DmaDevice dma;
    private final MmioRegion regs;
    private final int qid;
    private final int depth;
    private final int sqDoorbell;
    private final int cqDoorbell;
    private final DmaBuffer sqMemory;
    private final DmaBuffer cqMemory;
    private final DmaBuffer prpMemory;
    private final ByteBuffer sq;
    private final ByteBuffer cq;
    private final ByteBuffer prp;
    private final Interrupt irq;
    private final Duration timeout;

    private int sqTail;
    private int cqHead;
    private int phase = 1;
    // command slots, indexed by command identifier (cid)
    private final int[] freeCids;
    private int freeTop;
    private final boolean[] sync;
    private final boolean[] done;
    private final boolean[] abandoned;
    private final int[] status;
    private final int[] result;
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

    NvmeQueuePair(NvmeController controller, int qid, int depth, int stride, Interrupt irq, Duration timeout) {
        this.controller = controller;
        this.dma = controller.dma();
        this.regs = controller.registers();
        this.qid = qid;
        this.depth = depth;
        this.sqDoorbell = submissionDoorbell(qid, stride);
        this.cqDoorbell = completionDoorbell(qid, stride);
        this.irq = irq;
        this.timeout = timeout;
        DmaBuffer s = null;
        DmaBuffer c = null;
        try {
            s = dma.allocCoherent(roundUpPage((long) depth * SQE_SIZE));
            c = dma.allocCoherent(roundUpPage((long) depth * CQE_SIZE));
            prpMemory = dma.allocCoherent((long) depth * PAGE);
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            if (c != null) {
                c.close();
            }
            throw e;
        }
        sqMemory = s;
        cqMemory = c;
        sq = s.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        cq = c.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        prp = prpMemory.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        int slots = depth - 1; // a full SQ holds depth - 1 entries
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

    /** The queue identifier: 0 for the admin pair, 1 and up for I/O pairs. */
    public int id() {
        return qid;
    }

    /** Entries in each queue. */
    public int depth() {
        return depth;
    }

    /** Commands that may be in flight at once: {@code depth - 1}. */
    public int capacity() {
        return freeCids.length;
    }

    /** Commands submitted and not yet completed (including timed-out ones still awaiting their completion). */
    public int outstanding() {
        return freeCids.length - freeTop - readyCount;
    }

    /** Whether completion waits on an MSI-X interrupt (false: polled). */
    public boolean interrupts() {
        return irq != null;
    }

    public long submittedCount() {
        return submitted;
    }

    public long completedCount() {
        return completed;
    }

    /** The coherent buffers of this pair (SQ, CQ, PRP lists), for reports. */
    public DmaBuffer[] buffers() {
        return new DmaBuffer[] {sqMemory, cqMemory, prpMemory};
    }

    long sqAddress() {
        return sqMemory.dmaAddress();
    }

    long cqAddress() {
        return cqMemory.dmaAddress();
    }

    // ---- I/O on coherent buffers ---------------------------------------------------------------------------

    /** Reads {@code bytes} (a multiple of the block size) at {@code lba} into {@code buffer} at {@code offset}. */
    public void read(NvmeNamespace ns, long lba, DmaBuffer buffer, long offset, long bytes) {
        checkBuffer(buffer, offset, bytes);
        transfer(IO_READ, ns, lba, buffer.dmaAddress() + offset, bytes);
    }

    /** Writes {@code bytes} of {@code buffer} from {@code offset} to {@code lba}. */
    public void write(NvmeNamespace ns, long lba, DmaBuffer buffer, long offset, long bytes) {
        checkBuffer(buffer, offset, bytes);
        transfer(IO_WRITE, ns, lba, buffer.dmaAddress() + offset, bytes);
    }

    /** Reads into a streaming mapping the caller owns (and syncs for the CPU afterwards). */
    public void read(NvmeNamespace ns, long lba, DmaMapping mapping, long offset, long bytes) {
        checkMapping(mapping, offset, bytes, DmaDirection.FROM_DEVICE);
        transfer(IO_READ, ns, lba, mapping.dmaAddress() + offset, bytes);
    }

    /** Writes from a streaming mapping the caller owns (and synced for the device before). */
    public void write(NvmeNamespace ns, long lba, DmaMapping mapping, long offset, long bytes) {
        checkMapping(mapping, offset, bytes, DmaDirection.TO_DEVICE);
        transfer(IO_WRITE, ns, lba, mapping.dmaAddress() + offset, bytes);
    }

    // ---- I/O on user memory, mapped for each transfer (dma_map_single) -----------------------------------

    /** Reads {@code dst.remaining()} bytes at {@code lba} into {@code dst}'s {@code [position, limit)}; the position is not moved. */
    public void read(NvmeNamespace ns, long lba, ByteBuffer dst) {
        mapped(IO_READ, ns, lba, dst, DmaDirection.FROM_DEVICE);
    }

    /** Writes {@code src}'s {@code [position, limit)} to {@code lba}; the position is not moved. */
    public void write(NvmeNamespace ns, long lba, ByteBuffer src) {
        if (src.isReadOnly()) {
            src = src.duplicate(); // read-only buffers are fine to send to the device
        }
        mapped(IO_WRITE, ns, lba, src, DmaDirection.TO_DEVICE);
    }

    /** Reads {@code length} bytes at {@code lba} into {@code array[offset...]} (always through bounce buffers). */
    public void read(NvmeNamespace ns, long lba, byte[] array, int offset, int length) {
        mappedArray(IO_READ, ns, lba, array, offset, length, DmaDirection.FROM_DEVICE);
    }

    /** Writes {@code array[offset, offset + length)} to {@code lba} (always through bounce buffers). */
    public void write(NvmeNamespace ns, long lba, byte[] array, int offset, int length) {
        mappedArray(IO_WRITE, ns, lba, array, offset, length, DmaDirection.TO_DEVICE);
    }

    /** Flush: the controller commits written data to non-volatile media. */
    public void flush(NvmeNamespace ns) {
        execute(IO_FLUSH, ns.id(), 0, 0, 0, 0, 0, 0, timeout);
    }

    private void mapped(int op, NvmeNamespace ns, long lba, ByteBuffer buffer, DmaDirection dir) {
        long total = checkLength(ns, lba, buffer.remaining());
        long chunk = chunk(ns, buffer.isDirect() ? dma.maxMappingSize() : HEAP_CHUNK);
        int start = buffer.position();
        for (long done = 0; done < total; done += chunk) {
            int n = (int) Math.min(chunk, total - done);
            ByteBuffer part = buffer.duplicate();
            part.limit(start + (int) done + n).position(start + (int) done);
            try (DmaMapping m = dma.map(part, dir)) {
                transferChecked(op, ns, lba + done / ns.blockSize(), m.dmaAddress(), n);
            }
        }
    }

    private void mappedArray(int op, NvmeNamespace ns, long lba, byte[] array, int offset, int length, DmaDirection dir) {
        Objects.checkFromIndexSize(offset, length, array.length);
        long total = checkLength(ns, lba, length);
        long chunk = chunk(ns, HEAP_CHUNK);
        for (long done = 0; done < total; done += chunk) {
            int n = (int) Math.min(chunk, total - done);
            try (DmaMapping m = dma.map(array, offset + (int) done, n, dir)) {
                transferChecked(op, ns, lba + done / ns.blockSize(), m.dmaAddress(), n);
            }
        }
    }

    private long chunk(NvmeNamespace ns, long mappingLimit) {
        long c = Math.min(controller.maxTransferBytes(), mappingLimit);
        return c - c % ns.blockSize();
    }

    private void transfer(int op, NvmeNamespace ns, long lba, long dmaAddress, long bytes) {
        checkLength(ns, lba, bytes);
        long max = chunk(ns, Long.MAX_VALUE);
        for (long done = 0; done < bytes; done += max) {
            transferChecked(op, ns, lba + done / ns.blockSize(), dmaAddress + done, Math.min(max, bytes - done));
        }
    }

    private void transferChecked(int op, NvmeNamespace ns, long lba, long dmaAddress, long bytes) {
        int nlb = (int) (bytes / ns.blockSize());
        int cid = submitIo(op, ns, lba, nlb, dmaAddress, bytes);
        await(cid, timeout);
    }

    private long checkLength(NvmeNamespace ns, long lba, long bytes) {
        if (bytes <= 0 || bytes % ns.blockSize() != 0) {
            throw new IllegalArgumentException("NVMe transfer of " + bytes + " bytes: must be a positive multiple of "
                    + "the block size " + ns.blockSize());
        }
        long nlb = bytes / ns.blockSize();
        if (lba < 0 || lba + nlb > ns.blocks()) {
            throw new IllegalArgumentException("NVMe transfer of " + nlb + " blocks at LBA " + lba + " is outside "
                    + ns);
        }
        return bytes;
    }

    private void checkBuffer(DmaBuffer buffer, long offset, long bytes) {
        if (buffer.device() != dma) {
            throw new IllegalArgumentException("the buffer belongs to " + buffer.device().name() + ", not "
                    + dma.name());
        }
        Objects.checkFromIndexSize(offset, bytes, buffer.size());
    }

    private void checkMapping(DmaMapping mapping, long offset, long bytes, DmaDirection needed) {
        if (mapping.device() != dma) {
            throw new IllegalArgumentException("the mapping belongs to " + mapping.device().name() + ", not "
                    + dma.name());
        }
        if (mapping.direction() != needed && mapping.direction() != DmaDirection.BIDIRECTIONAL) {
            throw new IllegalArgumentException("a mapping for " + mapping.direction() + " cannot be used for a "
                    + (needed == DmaDirection.TO_DEVICE ? "write" : "read"));
        }
        Objects.checkFromIndexSize(offset, bytes, mapping.size());
    }

    // ---- asynchronous I/O ---------------------------------------------------------------------------------

    /**
     * Submits a read of {@code bytes} at {@code lba} to {@code dmaAddress} (DMA memory the caller owns)
     * and returns its command identifier; {@link #poll} reports its completion.
     *
     * @throws IllegalStateException when {@link #capacity()} commands are already in flight
     */
    public int submitRead(NvmeNamespace ns, long lba, long dmaAddress, int bytes) {
        checkLength(ns, lba, bytes);
        return submitIo(IO_READ, ns, lba, bytes / ns.blockSize(), dmaAddress, bytes);
    }

    /** As {@link #submitRead}, for a write. */
    public int submitWrite(NvmeNamespace ns, long lba, long dmaAddress, int bytes) {
        checkLength(ns, lba, bytes);
        return submitIo(IO_WRITE, ns, lba, bytes / ns.blockSize(), dmaAddress, bytes);
    }

    /**
     * Reaps completions of asynchronously submitted commands, calling {@code handler} for each, and returns
     * how many. Does not block.
     */
    public int poll(CompletionHandler handler) {
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

    /** Waits until at least one completion is there (or {@code max} passes), then {@link #poll}s. */
    public int await(CompletionHandler handler, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (readyCount == 0 && reap() == 0 && System.nanoTime() < deadline) {
            idle(deadline);
        }
        return poll(handler);
    }

    // ---- the queue mechanics ------------------------------------------------------------------------------

    private int submitIo(int op, NvmeNamespace ns, long lba, int nlb, long dmaAddress, long bytes) {
        if (nlb < 1 || nlb > 65536) {
            throw new IllegalArgumentException("NVMe commands carry 1 to 65536 blocks, not " + nlb);
        }
        if ((dmaAddress & 3) != 0) {
            throw new IllegalArgumentException("NVMe data must be dword aligned; DMA address " + Sizes.hex(dmaAddress));
        }
        int cid = take();
        long prp2 = buildPrp(cid, dmaAddress, bytes);
        opcode[cid] = op;
        nsid[cid] = ns.id();
        arg[cid] = lba;
        blocks[cid] = nlb;
        write(cid, op, ns.id(), dmaAddress, prp2, (int) lba, (int) (lba >>> 32), nlb - 1, 0, 0, 0);
        return cid;
    }

    /** PRP entry 2 for a transfer: none, the second page, or a PRP list written in the slot's list page. */
    private long buildPrp(int cid, long address, long bytes) {
        long[] pages = prpPages(address, bytes);
        if (pages.length == 0) {
            return 0;
        }
        if (pages.length == 1) {
            return pages[0];
        }
        if (pages.length > PAGE / 8) {
            throw new IllegalArgumentException("a transfer of " + bytes + " bytes needs a chained PRP list");
        }
        int base = cid * PAGE;
        for (int i = 0; i < pages.length; i++) {
            prp.putLong(base + 8 * i, pages[i]);
        }
        return prpMemory.dmaAddress() + base;
    }

    /** The page addresses after the first that a transfer of {@code bytes} at {@code address} touches. */
    static long[] prpPages(long address, long bytes) {
        long first = PAGE - (address & (PAGE - 1));
        if (bytes <= first) {
            return new long[0];
        }
        long next = (address & -PAGE) + PAGE;
        int n = (int) ((bytes - first + PAGE - 1) / PAGE);
        long[] pages = new long[n];
        for (int i = 0; i < n; i++) {
            pages[i] = next + (long) i * PAGE;
        }
        return pages;
    }

    /** Submits an admin or I/O command and waits for it; returns completion dword 0. */
    int execute(int op, int ns, long prp1, long prp2, int cdw10, int cdw11, int cdw12, int cdw13, Duration limit) {
        int cid = take();
        opcode[cid] = op;
        nsid[cid] = ns;
        arg[cid] = cdw10 & 0xffffffffL | (long) cdw11 << 32;
        blocks[cid] = cdw12 + 1;
        write(cid, op, ns, prp1, prp2, cdw10, cdw11, cdw12, cdw13, 0, 0);
        return await(cid, limit);
    }

    private int take() {
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
    }

    private void write(int cid, int op, int ns, long prp1, long prp2, int cdw10, int cdw11, int cdw12, int cdw13,
            int cdw14, int cdw15) {
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
        sq.putInt(o + 56, cdw14);
        sq.putInt(o + 60, cdw15);
        sqTail = sqTail + 1 == depth ? 0 : sqTail + 1;
        VarHandle.fullFence(); // the entry (and any PRP list) is in memory before the doorbell
        regs.write32(sqDoorbell, sqTail);
        submitted++;
    }

    /** Takes what the controller has completed off the CQ; returns how many entries. */
    private int reap() {
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
        if (n > 0) {
            regs.write32(cqDoorbell, cqHead);
        }
        return n;
    }

    private int await(int cid, Duration limit) {
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
            outcome = controller.abort(qid, cid);
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

    /** Frees the pair's memory (the controller deletes the queues first) and its interrupt. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (irq != null) {
            NvmeController.closeQuietly(irq);
        }
        sqMemory.close();
        cqMemory.close();
        prpMemory.close();
    }

    @Override
    public String toString() {
        return (qid == 0 ? "admin queue pair" : "I/O queue pair " + qid) + " (depth " + depth + ", "
                + (irq != null ? "MSI-X " + irq.vector() : "polled") + ", SQ " + Sizes.hex(sqAddress()) + ", CQ "
                + Sizes.hex(cqAddress()) + ")";
    }

    long interruptWaits() {
        return interruptWaits;
    }
}
