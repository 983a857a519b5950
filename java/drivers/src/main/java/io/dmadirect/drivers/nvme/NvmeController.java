package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.*;

import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaMask;
import io.dmadirect.pci.Interrupt;
import io.dmadirect.pci.InterruptKind;
import io.dmadirect.pci.MmioRegion;
import io.dmadirect.pci.PciDevice;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A userspace NVMe driver on the public API only: a {@link PciDevice} for registers and interrupts and a
 * {@link DmaDevice} for memory.
 *
 * <p>{@link #attach} resets the controller, enables it with an admin queue pair, identifies the
 * controller and its active namespaces, and creates the I/O queue pairs. Queues, PRP lists and the
 * identify page are coherent DMA memory; data may be {@link DmaBuffer}s, streaming mappings, direct
 * {@code ByteBuffer}s or {@code byte[]} (mapped per transfer, bounced where the library must). The DMA
 * mask is 64 bits, and {@code min_align_mask} is 4095, so a bounced buffer keeps its offset within the
 * controller page, as PRP entries require.
 *
 * <p>Thread safety: see {@link NvmeQueuePair} — per queue pair. The controller's own methods (admin
 * commands) are synchronized.
 */
public final class NvmeController implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NvmeController.class.getName());
    private static final String PREFIX = "drivers/nvme: ";
    /** PCI class code of an NVM Express controller (mass storage, NVM, NVMe). */
    public static final int CLASS_NVME = 0x010802;
    private static final int ADMIN_DEPTH = 32;
    /** A transfer's PRP list must fit one page (no chaining): 512 entries. */
    private static final long PRP_LIMIT = 2L * 1024 * 1024;
    /** TCG slack on top of CAP.TO when waiting for CSTS.RDY. */
    private static final long READY_SLACK_MS = 10_000;

    private final PciDevice pci;
    private final DmaDevice dma;
    private final MmioRegion regs;
    private final NvmeOptions options;
    private final long cap;
    private final int version;
    private final int stride;
    private NvmeQueuePair admin;
    private DmaPool prpPagePool;
    private DmaPool prpSmallPool;
    private DmaBuffer identifyPage;
    private NvmeIdentity identity;
    private long maxTransfer;
    private final List<NvmeNamespace> namespaces = new ArrayList<>();
    private final List<NvmeQueuePair> ioPairs = new ArrayList<>();
    private Interrupt adminIrq;
    private boolean closed;

    private NvmeController(PciDevice pci, DmaDevice dma, NvmeOptions options) {
        this.pci = pci;
        this.dma = dma;
        this.options = options;
        this.regs = pci.bar(0);
        this.cap = regs.read64(CAP);
        this.version = regs.read32(VS);
        this.stride = NvmeRegisters.doorbellStride(cap);
    }

    /** As {@link #attach(PciDevice, DmaDevice, NvmeOptions)} with {@link NvmeOptions#DEFAULTS}. */
    public static NvmeController attach(PciDevice pci, DmaDevice dma) {
        return attach(pci, dma, NvmeOptions.DEFAULTS);
    }

    /**
     * Brings the controller up: checks the class code, sets a 64-bit mask and {@code min_align_mask}
     * 4095, enables bus mastering, resets and enables the controller, identifies it, and creates the
     * I/O queue pairs.
     *
     * @throws IllegalArgumentException when the function is not an NVMe controller
     * @throws NvmeException            when an admin command fails
     */
    public static NvmeController attach(PciDevice pci, DmaDevice dma, NvmeOptions options) {
        int classCode = pci.readConfig32(0x08) >>> 8;
        if (classCode != CLASS_NVME) {
            throw new IllegalArgumentException("failed to attach the NVMe driver to " + pci.address()
                    + ": class code " + String.format("0x%06x", classCode) + " is not NVMe (0x010802)");
        }
        dma.setMaskAndCoherent(DmaMask.bits(64));
        dma.setMinAlignMask(PAGE - 1);
        pci.enableBusMaster();
        NvmeController c = new NvmeController(pci, dma, options);
        try {
            c.bringUp();
            return c;
        } catch (RuntimeException e) {
            try {
                c.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void bringUp() {
        if (!supportsNvmCommandSet(cap)) {
            throw new IllegalStateException(PREFIX + "CAP " + hex(cap) + ": the NVM command set is not supported");
        }
        if (minPageSize(cap) > PAGE) {
            throw new IllegalStateException(PREFIX + "CAP.MPSMIN is " + minPageSize(cap) + " bytes; this driver uses 4 KiB pages");
        }
        // reset
        regs.write32(CC, 0);
        waitReady(false);
        // PRP list pools, shared by the pairs (Linux: nvme_setup_prp_pools)
        DmaPool[] prpPools = NvmePrpLists.createPools(dma);
        prpPagePool = prpPools[0];
        prpSmallPool = prpPools[1];
        // admin queues
        admin = new NvmeQueuePair(this, 0, Math.min(ADMIN_DEPTH, maxQueueEntries(cap)), stride, null,
                options.commandTimeout());
        enableWithAdminQueue();

        identifyPage = dma.allocCoherent(PAGE);
        ByteBuffer id = identifyController();
        int mdts = id.get(77) & 0xff;
        long mdtsBytes = mdts == 0 ? 0 : (long) minPageSize(cap) << mdts;
        maxTransfer = mdtsBytes == 0 ? PRP_LIMIT : Math.min(mdtsBytes, PRP_LIMIT);
        identity = new NvmeIdentity(id.getShort(0) & 0xffff, ascii(id, 4, 20), ascii(id, 24, 40), ascii(id, 64, 8),
                mdtsBytes, id.getInt(516));
        for (int nsid : activeNamespaces()) {
            NvmeNamespace ns = identifyNamespace(nsid);
            if (ns.blocks() > 0) {
                namespaces.add(ns);
            }
        }
        createIoQueues();
        LOG.log(Level.INFO, PREFIX + "{0}: {1} ''{2}'' serial ''{3}'', {4} namespace(s), {5} I/O pair(s), max transfer {6}",
                pci.address(), identity.model(), identity.firmware(), identity.serial(), namespaces.size(),
                ioPairs.size(), maxTransfer);
    }

    /** Gives a disabled controller the admin queue pair's memory and enables it (Linux: nvme_pci_configure_admin_queue). */
    private void enableWithAdminQueue() {
        regs.write32(AQA, (admin.depth() - 1) << 16 | (admin.depth() - 1));
        write64(ASQ, admin.sqAddress());
        write64(ACQ, admin.cqAddress());
        regs.write32(CC, CC_EN | CC_ENTRY_SIZES);
        waitReady(true);
    }

    /** Set Features, Number of Queues: asks for {@code wanted} pairs; returns how many the controller granted. */
    private int negotiateQueueCount(int wanted) {
        // 0-based counts of SQs and CQs; the answer is what was granted.
        int granted = admin.execute(ADMIN_SET_FEATURES, 0, 0, 0, FEATURE_NUMBER_OF_QUEUES,
                (wanted - 1) << 16 | (wanted - 1), 0, 0, options.commandTimeout());
        return Math.min(wanted, Math.min((granted & 0xffff) + 1, (granted >>> 16) + 1));
    }

    /** Tells the controller about pair {@code p}'s CQ, then its SQ (Linux: adapter_alloc_cq, adapter_alloc_sq). */
    private void createQueuesOf(NvmeQueuePair p) {
        int q = p.id();
        int depth = p.depth();
        // CQ first: physically contiguous (PC = 1), interrupts enabled (IEN) on vector q when the pair has one
        admin.execute(ADMIN_CREATE_CQ, 0, p.cqAddress(), 0, (depth - 1) << 16 | q,
                (p.interrupts() ? q << 16 | 2 : 0) | 1, 0, 0, options.commandTimeout());
        // SQ bound to CQ q, contiguous, medium priority
        admin.execute(ADMIN_CREATE_SQ, 0, p.sqAddress(), 0, (depth - 1) << 16 | q, q << 16 | 1, 0, 0,
                options.commandTimeout());
    }

    private void createIoQueues() {
        int wanted = options.ioQueuePairs();
        int n = negotiateQueueCount(wanted);
        if (n < wanted) {
            LOG.log(Level.WARNING, PREFIX + "asked for {0} I/O queue pairs, the controller granted {1}", wanted, n);
        }
        Interrupt[] vectors = options.interrupts() ? openInterrupts(n) : null;
        boolean irqs = vectors != null;
        int depth = Math.min(options.queueDepth(), maxQueueEntries(cap));
        try {
            for (int q = 1; q <= n; q++) {
                Interrupt irq = irqs ? vectors[q] : null;
                NvmeQueuePair p = new NvmeQueuePair(this, q, depth, stride, irq, options.commandTimeout());
                ioPairs.add(p);
                createQueuesOf(p);
            }
        } catch (RuntimeException e) {
            // A pair owns its vector once it is constructed (close() closes it); the vectors of the pairs that
            // never were (their queue memory could not be allocated) belong to no one: close them here, or
            // their eventfds stay open until the session closes, and each failed attach leaks more of them.
            if (irqs) {
                for (int v = ioPairs.size() + 1; v <= n; v++) {
                    closeQuietly(vectors[v]);
                }
            }
            throw e;
        }
    }

    /**
     * MSI-X vector 0 belongs to the admin queue, vectors 1..n to the I/O pairs; null (polling) when they
     * are not available. The highest vector goes first: it sizes VFIO's MSI-X range once, where a growing
     * range would be re-enabled for each vector ({@link PciDevice#enableInterrupt}).
     */
    private Interrupt[] openInterrupts(int pairs) {
        int available = pci.interruptCount(InterruptKind.MSIX);
        if (available < pairs + 1) {
            LOG.log(Level.WARNING, PREFIX + "{0} MSI-X vectors for {1} I/O queue pairs; polling instead", available, pairs);
            return null;
        }
        Interrupt[] vectors = new Interrupt[pairs + 1];
        try {
            for (int v = pairs; v >= 0; v--) {
                vectors[v] = pci.enableInterrupt(InterruptKind.MSIX, v);
            }
            adminIrq = vectors[0];
            return vectors;
        } catch (RuntimeException e) {
            for (Interrupt i : vectors) {
                if (i != null) {
                    i.close();
                }
            }
            LOG.log(Level.WARNING, PREFIX + "cannot enable MSI-X: {0}; polling instead", e.getMessage());
            return null;
        }
    }

    private synchronized ByteBuffer identifyController() {
        return identify(CNS_CONTROLLER, 0);
    }

    private synchronized ByteBuffer identify(int cns, int nsid) {
        ByteBuffer page = identifyPage.cpuView().order(ByteOrder.LITTLE_ENDIAN);
        page.put(0, new byte[PAGE]);
        admin.execute(ADMIN_IDENTIFY, nsid, identifyPage.dmaAddress(), 0, cns, 0, 0, 0, options.commandTimeout());
        ByteBuffer copy = ByteBuffer.allocate(PAGE).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(page).flip();
        return copy;
    }

    private List<Integer> activeNamespaces() {
        ByteBuffer list = identify(CNS_ACTIVE_NAMESPACES, 0);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < PAGE / 4; i++) {
            int nsid = list.getInt(4 * i);
            if (nsid == 0) {
                break;
            }
            ids.add(nsid);
        }
        return ids;
    }

    private NvmeNamespace identifyNamespace(int nsid) {
        ByteBuffer ns = identify(CNS_NAMESPACE, nsid);
        long nsze = ns.getLong(0);
        int flbas = ns.get(26) & 0xf;
        int lbaf = ns.getInt(128 + 4 * flbas);
        int lbads = lbaf >>> 16 & 0xff;
        return new NvmeNamespace(nsid, nsze, 1 << lbads);
    }

    private static String ascii(ByteBuffer b, int offset, int length) {
        byte[] bytes = new byte[length];
        b.get(offset, bytes);
        return new String(bytes, StandardCharsets.US_ASCII).replace('\0', ' ').strip();
    }

    private void waitReady(boolean ready) {
        long limit = readyTimeoutMillis(cap) + READY_SLACK_MS;
        long deadline = System.nanoTime() + limit * 1_000_000;
        for (;;) {
            int csts = regs.read32(CSTS);
            if ((csts & CSTS_CFS) != 0 && ready) {
                throw new IllegalStateException(PREFIX + pci.address() + ": controller fatal status (CSTS " + hex(csts) + ")");
            }
            if (((csts & CSTS_RDY) != 0) == ready) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(PREFIX + pci.address() + ": CSTS.RDY did not become " + (ready ? 1 : 0)
                        + " within " + limit + " ms (CAP.TO + slack); CSTS " + hex(csts));
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(PREFIX + "interrupted while waiting for CSTS.RDY", e);
            }
        }
    }

    /**
     * Closes a vector during teardown. A failure there is not expected (each vector detaches alone), but it
     * is logged rather than thrown, so that it cannot hide the error that caused the teardown.
     */
    static void closeQuietly(Interrupt irq) {
        try {
            irq.close();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, PREFIX + "closing MSI-X vector " + irq.vector() + ": " + e.getMessage());
        }
    }

    private void write64(int offset, long value) {
        regs.write32(offset, (int) value);
        regs.write32(offset + 4, (int) (value >>> 32));
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /**
     * Resets the controller under a live session and brings it back with the same queues, as the kernel's
     * {@code nvme_reset_work} does after {@code nvme_dev_disable}: a function-level reset through the
     * {@link PciDevice} ({@code VFIO_DEVICE_RESET}) when the function has a reset method, else a controller reset
     * (CC.EN 0); then the admin queue, the number of queues and the I/O queue pairs again, on the memory and
     * MSI-X vectors they had, so nothing is allocated or freed and the DMA session is untouched. Every command
     * in flight completes with {@link NvmeQueuePair#STATUS_HOST_ABORTED}: an asynchronous one through the
     * pair's next {@code poll}.
     *
     * <p>Call it while no other thread uses the queue pairs (as {@link #close}): a pair is not thread-safe.
     *
     * @throws IllegalStateException when the controller is closed, or does not come back ready (the message
     *                               names CSTS); the driver must then be closed
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/nvme/host/pci.c">nvme_reset_work</a>
     */
    public synchronized NvmeResetReport reset() {
        if (closed) {
            throw new IllegalStateException(PREFIX + pci.address() + ": cannot reset a closed controller; attach again");
        }
        long t0 = System.nanoTime();
        boolean flr = pci.canReset();
        if (flr) {
            pci.reset();
        }
        long resetNanos = System.nanoTime() - t0;
        // After an FLR the controller is disabled already; without one this is the reset.
        pci.enableBusMaster();
        regs.write32(CC, 0);
        waitReady(false);
        int aborted = admin.restartAfterReset();
        for (NvmeQueuePair p : ioPairs) {
            aborted += p.restartAfterReset();
        }
        enableWithAdminQueue();
        int granted = negotiateQueueCount(ioPairs.size());
        if (granted < ioPairs.size()) {
            throw new IllegalStateException(PREFIX + pci.address() + ": after the reset the controller grants "
                    + granted + " I/O queue pairs, not the " + ioPairs.size() + " it had; close and attach again");
        }
        for (NvmeQueuePair p : ioPairs) {
            createQueuesOf(p);
        }
        NvmeResetReport report = new NvmeResetReport(flr, aborted, resetNanos, System.nanoTime() - t0);
        LOG.log(Level.INFO, PREFIX + "{0}: {1}", pci.address(), report);
        return report;
    }

    /** Asks the controller to abort command {@code cid} of submission queue {@code sqid}; returns what happened, for messages. */
    synchronized String abort(int sqid, int cid) {
        try {
            int dw0 = admin.execute(ADMIN_ABORT, 0, 0, 0, sqid | cid << 16, 0, 0, 0, Duration.ofSeconds(5));
            return (dw0 & 1) == 0 ? "the controller aborted it" : "the controller did not abort it (it may still complete)";
        } catch (NvmeException e) {
            return "the abort failed: " + e.getMessage();
        }
    }

    // ---- accessors ------------------------------------------------------------------------------------------

    PciDevice pci() {
        return pci;
    }

    /**
     * {@return the coherent memory the PRP list pools hold} A dma_pool keeps the pages it grew until it is
     * closed, as the kernel's does, so this memory stays in use between commands; a caller that checks for
     * leaks (memory in use before and after a failed command) leaves it out.
     */
    public long prpPoolBytes() {
        long bytes = 0;
        for (DmaPool pool : new DmaPool[] {prpSmallPool, prpPagePool}) {
            if (pool != null) {
                bytes += pool.pageCount() * pool.allocation();
            }
        }
        return bytes;
    }

    /** The pool of 4 KiB PRP list pages (Linux: {@code prp_page_pool}). */
    DmaPool prpPagePool() {
        return prpPagePool;
    }

    /** The pool of 256-byte PRP lists for up to 32 entries (Linux: {@code prp_small_pool}). */
    DmaPool prpSmallPool() {
        return prpSmallPool;
    }

    DmaDevice dma() {
        return dma;
    }

    MmioRegion registers() {
        return regs;
    }

    public NvmeIdentity identity() {
        return identity;
    }

    /** The active namespaces with a non-zero size. */
    public List<NvmeNamespace> namespaces() {
        return List.copyOf(namespaces);
    }

    /** The namespace with {@code nsid}. @throws IllegalArgumentException when it is not active */
    public NvmeNamespace namespace(int nsid) {
        return namespaces.stream().filter(n -> n.id() == nsid).findFirst().orElseThrow(
                () -> new IllegalArgumentException("no active namespace " + nsid + " on " + pci.address()));
    }

    /** The I/O queue pairs, in queue id order (1, 2, ...). */
    public List<NvmeQueuePair> queuePairs() {
        return List.copyOf(ioPairs);
    }

    /** I/O queue pair {@code index} (0-based; its queue id is {@code index + 1}). */
    public NvmeQueuePair queuePair(int index) {
        return ioPairs.get(index);
    }

    /** The largest single command's transfer: MDTS, and at most what one PRP list page describes (2 MiB). */
    public long maxTransferBytes() {
        return maxTransfer;
    }

    /** The CAP register. */
    public long capabilities() {
        return cap;
    }

    /** The VS register, e.g. {@code 0x10400} for 1.4. */
    public int version() {
        return version;
    }

    /** The doorbell stride in bytes ({@code 4 << CAP.DSTRD}). */
    public int doorbellStride() {
        return stride;
    }

    public PciDevice pciDevice() {
        return pci;
    }

    public DmaDevice dmaDevice() {
        return dma;
    }

    /**
     * Deletes the I/O queues, shuts the controller down (CC.SHN) and disables it, and frees the driver's
     * memory and interrupts. Buffers the caller allocated stay the caller's.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try {
            if (admin != null && (regs.read32(CSTS) & CSTS_RDY) != 0) {
                for (int i = ioPairs.size() - 1; i >= 0; i--) {
                    int q = ioPairs.get(i).id();
                    admin.execute(ADMIN_DELETE_SQ, 0, 0, 0, q, 0, 0, 0, Duration.ofSeconds(5));
                    admin.execute(ADMIN_DELETE_CQ, 0, 0, 0, q, 0, 0, 0, Duration.ofSeconds(5));
                }
                regs.write32(CC, regs.read32(CC) | CC_SHN_NORMAL);
                long deadline = System.nanoTime() + 5_000_000_000L;
                while ((regs.read32(CSTS) & CSTS_SHST_MASK) != CSTS_SHST_DONE && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            regs.write32(CC, 0);
            waitReady(false);
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        for (NvmeQueuePair p : ioPairs) {
            p.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (adminIrq != null) {
            closeQuietly(adminIrq);
        }
        if (identifyPage != null) {
            identifyPage.close();
        }
        for (DmaPool pool : new DmaPool[] {prpSmallPool, prpPagePool}) {
            if (pool != null) {
                try {
                    pool.close();
                } catch (RuntimeException e) {
                    // Lists still held (a pair that failed to close): the device's close frees the pages.
                    LOG.log(Level.WARNING, PREFIX + "PRP list pool of " + pci.address() + ": " + e.getMessage());
                }
            }
        }
        pci.disableBusMaster();
        if (failure != null) {
            LOG.log(Level.WARNING, PREFIX + "shutting down " + pci.address() + ": " + failure.getMessage());
        }
    }

    @Override
    public String toString() {
        return "NVMe " + pci.address() + " (" + (identity == null ? "not identified" : identity.model() + ", serial "
                + identity.serial()) + ")";
    }
}
