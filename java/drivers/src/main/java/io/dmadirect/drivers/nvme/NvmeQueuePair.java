package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.*;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.Sizes;
import io.dmadirect.pci.Interrupt;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;

/**
 * A submission queue and its completion queue, both in coherent DMA memory, and the PRP lists of the commands
 * in flight, each taken from the controller's {@code dma_pool}s when its command needs one and freed when the
 * command completes ({@link NvmePrpLists}).
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
 *
 * <p>This class turns transfers into commands: it checks them, splits them to the controller's and the
 * mapping's limits, maps user memory and describes it with PRP lists. The rings themselves (doorbells,
 * phase, command identifiers, waiting) are {@link NvmeQueueRing}'s.
 */
public final class NvmeQueuePair implements AutoCloseable {
    /** Heap arrays always bounce, and one mapping may not exceed the bounce pool's 256 KiB segment. */
    static final long HEAP_CHUNK = 128 * Sizes.KiB;

    /** Receives the completions of commands sent with {@link #submitRead}/{@link #submitWrite}. */
    @FunctionalInterface
    public interface CompletionHandler {
        /** {@code status} 0 is success; otherwise {@link NvmeStatus} names it. The cid is free again after the call. */
        void completed(int cid, int status);
    }

    /**
     * The status a command in flight completes with when {@link NvmeController#reset} resets the controller
     * under it: SCT 3 (path related) SC 0x71, Host Aborted Command, as the kernel's {@code NVME_SC_HOST_ABORTED_CMD}.
     */
    public static final int STATUS_HOST_ABORTED = 0x371;

    private final NvmeController controller;
    private final DmaDevice dma;
    private final NvmeQueueRing ring;
    private final NvmePrpLists prpLists;
    private final Duration timeout;

    NvmeQueuePair(NvmeController controller, int qid, int depth, int stride, Interrupt irq, Duration timeout) {
        this.controller = controller;
        this.dma = controller.dma();
        this.timeout = timeout;
        // The lists exist before the ring, which frees a command's list each time it frees the command's cid.
        prpLists = new NvmePrpLists(controller.prpPagePool(), controller.prpSmallPool(), depth);
        ring = new NvmeQueueRing(dma, controller.registers(), controller::abort, qid, depth, stride, irq,
                prpLists::release);
    }

    /** The queue identifier: 0 for the admin pair, 1 and up for I/O pairs. */
    public int id() {
        return ring.id();
    }

    /** Entries in each queue. */
    public int depth() {
        return ring.depth();
    }

    /** Commands that may be in flight at once: {@code depth - 1}. */
    public int capacity() {
        return ring.capacity();
    }

    /** Commands submitted and not yet completed (including timed-out ones still awaiting their completion). */
    public int outstanding() {
        return ring.outstanding();
    }

    /** Whether completion waits on an MSI-X interrupt (false: polled). */
    public boolean interrupts() {
        return ring.interrupts();
    }

    public long submittedCount() {
        return ring.submittedCount();
    }

    public long completedCount() {
        return ring.completedCount();
    }

    /** The coherent buffers of this pair (SQ, CQ), for reports; its PRP lists are blocks of the controller's pools. */
    public DmaBuffer[] buffers() {
        return new DmaBuffer[] {ring.submissionQueue(), ring.completionQueue()};
    }

    /** {@return PRP lists held by commands in flight} */
    int prpListsHeld() {
        return prpLists.held();
    }

    long sqAddress() {
        return ring.submissionQueue().dmaAddress();
    }

    long cqAddress() {
        return ring.completionQueue().dmaAddress();
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
        ring.await(cid, timeout);
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
        return ring.poll(handler);
    }

    /** Waits until at least one completion is there (or {@code max} passes), then {@link #poll}s. */
    public int await(CompletionHandler handler, Duration max) {
        return ring.await(handler, max);
    }

    // ---- commands -----------------------------------------------------------------------------------------

    private int submitIo(int op, NvmeNamespace ns, long lba, int nlb, long dmaAddress, long bytes) {
        if (nlb < 1 || nlb > 65536) {
            throw new IllegalArgumentException("NVMe commands carry 1 to 65536 blocks, not " + nlb);
        }
        if ((dmaAddress & 3) != 0) {
            throw new IllegalArgumentException("NVMe data must be dword aligned; DMA address " + Sizes.hex(dmaAddress));
        }
        return submitWithPrp(ring, prpLists, op, ns.id(), lba, nlb, dmaAddress, bytes);
    }

    /**
     * Takes a cid, describes the transfer with PRP entries (a list from the pools when it needs one) and submits
     * it. When the entries cannot be built (a list pool is exhausted, or the transfer would need a chained list),
     * the command is never submitted and its cid and list go back at once: before, a failed build left the cid
     * taken until the pair closed.
     */
    static int submitWithPrp(NvmeQueueRing ring, NvmePrpLists lists, int op, int nsid, long lba, int nlb,
            long dmaAddress, long bytes) {
        int cid = ring.take();
        long prp2;
        try {
            prp2 = lists.build(cid, dmaAddress, bytes);
        } catch (RuntimeException e) {
            ring.cancel(cid);
            throw e;
        }
        ring.submit(cid, op, nsid, dmaAddress, prp2, (int) lba, (int) (lba >>> 32), nlb - 1, 0);
        return cid;
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
        int cid = ring.take();
        ring.submit(cid, op, ns, prp1, prp2, cdw10, cdw11, cdw12, cdw13);
        return ring.await(cid, limit);
    }

    /** After a controller reset: see {@link NvmeQueueRing#restartAfterReset()}; returns the commands aborted. */
    int restartAfterReset() {
        return ring.restartAfterReset();
    }

    /** Names a completion status, e.g. {@link #STATUS_HOST_ABORTED}'s "Host Aborted Command", for messages. */
    public static String describeStatus(int status) {
        return NvmeStatus.describe(status);
    }

    /** Frees the pair's memory (the controller deletes the queues first) and its interrupt. */
    @Override
    public void close() {
        if (ring.closed()) {
            return;
        }
        ring.close();
        prpLists.releaseAll();
    }

    @Override
    public String toString() {
        return ring.toString();
    }
}
