package io.dmadirect.direct;

import io.dmadirect.Addresses;
import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.Sizes;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.pool.AtomicPools;
import io.dmadirect.spi.LowMemoryAttempt;
import io.dmadirect.spi.MemoryRun;
import io.dmadirect.swiotlb.Swiotlb;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dma-direct platform: devices attached to it allocate through the policy of this package over
 * the page allocator, the atomic pools, and the bounce pool. It owns all of them and closes them.
 */
public final class DirectPlatform implements DmaPlatform {
    private static final System.Logger LOG = System.getLogger("io.dmadirect.direct");

    final PlatformParts parts;
    final AtomicPools pools;
    /** How buffers from {@link #pools} are viewed and freed. */
    final BufferBacking poolBacking;
    /** The bounce pool, or null when the platform has none. */
    final Swiotlb swiotlb;
    /** The coherent allocator of restricted devices: the parts' own, else the bounce pool. */
    final SwiotlbAllocator swiotlbAllocator;
    private volatile CpuPhysTable cpuTable;
    private final Set<DirectDevice> devices = ConcurrentHashMap.newKeySet();
    private final AtomicLong leakedBytes = new AtomicLong();
    private final AtomicLong onDemandBytes = new AtomicLong();
    /** The last attempt of low memory on demand that obtained nothing, to not repeat it at once; null before one. */
    private volatile EmptyAttempt lastEmptyAttempt;
    /** Open/closed and the attaches in flight; each device has its own gate for its operations. */
    private final Lifecycle gate;

    public DirectPlatform(PlatformParts parts) {
        this.parts = parts;
        this.gate = new Lifecycle(() -> "platform " + parts.name());
        this.pools = new AtomicPools(parts.pages(), parts.pages().stats(), parts.atomicPoolBytes(),
                parts.atomicPoolMaxBytes(), this::preparePoolChunk);
        this.poolBacking = new PoolBacking(pools);
        this.swiotlb = Swiotlb.create(parts.bounce(), parts.pages(), parts.memory().frameSize(), parts.encryption(),
                sharesMemory() && parts.encryption().canShare());
        this.swiotlbAllocator = parts.swiotlb() != null ? parts.swiotlb()
                : swiotlb != null ? new SwiotlbCoherent(swiotlb) : null;
        this.cpuTable = CpuPhysTable.of(parts.memory().runs());
    }

    /** Whether memory devices reach must be made shared: a confidential guest, or a host with SME. */
    private boolean sharesMemory() {
        return parts.guestMemEncrypt() || parts.encryption().encryptionMask() != 0;
    }

    /**
     * The physical address of {@code [cpu, cpu + size)} when it lies in one run of pinned memory; the table
     * is rebuilt when the memory has grown since.
     */
    long cpuToPhys(long cpu, long size) {
        return translate(cpu, size, false);
    }

    /**
     * The CPU address of {@code [phys, phys + size)} when it lies in one run of pinned memory, else
     * {@link Addresses#NONE}; the table is rebuilt when the memory has grown since.
     */
    long physToCpu(long phys, long size) {
        return translate(phys, size, true);
    }

    private long translate(long from, long size, boolean toCpu) {
        long to = lookUp(cpuTable, from, size, toCpu);
        if (to == Addresses.NONE) {
            CpuPhysTable grown = grownTable();
            to = grown == null ? to : lookUp(grown, from, size, toCpu);
        }
        return to;
    }

    private static long lookUp(CpuPhysTable table, long from, long size, boolean toCpu) {
        return toCpu ? table.cpuOf(from, size) : table.physOf(from, size);
    }

    /** After a miss: the table rebuilt when the platform's memory has grown since it was made, else null. */
    private CpuPhysTable grownTable() {
        // runCount(), not runs(): a miss (an address outside the pinned memory, which bounces) is common on some
        // drivers' paths, and runs() copies the list under the memory's lock.
        if (parts.memory().runCount() == cpuTable.size()) {
            return null;
        }
        CpuPhysTable table = CpuPhysTable.of(parts.memory().runs());
        cpuTable = table;
        return table;
    }

    /** The bounce pool (swiotlb), for its statistics; null when the platform has none. */
    public Swiotlb swiotlb() {
        return swiotlb;
    }

    /** Whether the atomic pools' memory was made shared (decrypted) when it was taken, as {@link #preparePoolChunk} does. */
    boolean poolMemoryShared() {
        return sharesMemory() && parts.encryption().canShare();
    }

    /**
     * Whether the memory at {@code phys} is known to be shared (decrypted) with devices: the atomic pools,
     * a buffer decrypted for a forced-unencrypted device, or the bounce pool. Its DMA address then carries no
     * encryption bit for any device ({@code phys_to_dma_unencrypted()}), or the device would read ciphertext.
     */
    boolean isSharedMemory(long phys) {
        Object owner = parts.pages().ownerAt(phys);
        if (owner == pools) {
            return poolMemoryShared();
        }
        if (owner instanceof CoherentBuffer) {
            return ((CoherentBuffer) owner).decrypted();
        }
        return swiotlb != null && swiotlb.isShared(phys);
    }

    /** {@code atomic_pool_expand()}: pool memory is cleaned and made shared before anyone can take it. */
    private boolean preparePoolChunk(long phys, long cpu, long size) {
        parts.caches().flush(cpu, size);
        if (sharesMemory() && parts.encryption().canShare()) {
            return parts.encryption().setDecrypted(phys, size);
        }
        return true;
    }

    @Override
    public DmaDevice attach(DeviceProperties properties) {
        int ticket = gate.enter("attach a device");
        try {
            // Inside the gate: close waits for this add before it collects the devices.
            DirectDevice device = new DirectDevice(this, properties);
            devices.add(device);
            return device;
        } finally {
            gate.exit(ticket);
        }
    }

    void detach(DirectDevice device) {
        devices.remove(device);
    }

    @Override
    public DmaMask requiredMask() {
        return DmaDirect.requiredMask(DeviceDma.initial(DeviceProperties.simple("platform"), 0, false),
                parts.memory().systemMaxPhysAddress());
    }

    @Override
    public int zoneDmaBits() {
        return parts.zones().zoneDmaBits();
    }

    @Override
    public boolean forcedUnencrypted() {
        return parts.guestMemEncrypt();
    }

    @Override
    public MemoryStats memoryStats() {
        return parts.pages().stats();
    }

    /** Returns memory parked in per-thread caches to the shared allocator (see {@link PageAllocator#drainThreadCaches}). */
    public void drainThreadCaches() {
        int ticket = gate.tryEnter();
        if (ticket < 0) {
            return; // close drained them
        }
        try {
            parts.pages().drainThreadCaches();
        } finally {
            gate.exit(ticket);
        }
    }

    /** The atomic pools, for inspection. */
    public AtomicPools atomicPools() {
        return pools;
    }

    /** Bytes deliberately leaked because making them private again failed, as the kernel does. */
    public long leakedBytes() {
        return leakedBytes.get();
    }

    void leaked(long bytes, String why) {
        leakedBytes.addAndGet(bytes);
        LOG.log(System.Logger.Level.WARNING, "direct: leaking " + bytes + " bytes: " + why);
    }

    /**
     * Low memory on demand ({@link LowMemoryOnDemand}): asks the page allocator for {@code bytes} below
     * {@code physLimit} for {@code device}, and logs what it got. An attempt that obtained nothing is not
     * repeated for a limit as low or lower within {@link #ON_DEMAND_RETRY_NANOS}: the host has not changed,
     * and a driver that keeps failing must not pay the search every time.
     */
    LowMemoryAttempt obtainBelow(long physLimit, long bytes, String device) {
        EmptyAttempt last = lastEmptyAttempt;
        if (last != null && Long.compareUnsigned(physLimit, last.physLimit()) <= 0
                && System.nanoTime() - last.atNanos() < ON_DEMAND_RETRY_NANOS) {
            return LowMemoryAttempt.none("not tried again so soon; the last attempt: " + last.tried());
        }
        LowMemoryAttempt attempt = parts.pages().growBelow(physLimit, bytes);
        onDemandBytes.addAndGet(attempt.bytes());
        if (attempt.runs().isEmpty()) {
            lastEmptyAttempt = new EmptyAttempt(physLimit, System.nanoTime(), attempt.tried());
        }
        // Memory that cannot obtain more (a simulated machine without obtainable frames) tried nothing: no warning.
        System.Logger.Level level = !attempt.runs().isEmpty() ? System.Logger.Level.INFO
                : attempt.nanos() == 0 ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
        LOG.log(level, "direct: " + device + " needs memory below " + Sizes.hex(physLimit) + ": obtained "
                + Sizes.format(attempt.bytes()) + " of " + Sizes.format(bytes) + " on demand in "
                + attempt.nanos() / 1_000_000 + " ms (" + attempt.tried() + ")");
        return attempt;
    }

    /** One value, so a reader never pairs one attempt's limit and time with another's account of what it tried. */
    private record EmptyAttempt(long physLimit, long atNanos, String tried) {
    }

    static final long ON_DEMAND_RETRY_NANOS = 10_000_000_000L;

    /** Bytes obtained by low memory on demand since the platform opened. */
    public long lowMemoryOnDemandBytes() {
        return onDemandBytes.get();
    }

    /**
     * The floor of {@code dma_direct_supported()} for one device: the DMA address of the end of the lowest
     * frame held that the device reaches, or {@link DmaDirect#DMA_MAPPING_ERROR} when it reaches none.
     */
    /**
     * {@code dma_direct_all_ram_mapped()}: whether the device's dma-ranges cover every byte of memory the
     * platform holds (always, without dma-ranges), walking each run range by range as
     * {@code check_ram_in_range_map()} walks the system RAM.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_all_ram_mapped</a>
     */
    boolean allRamMapped(DeviceDma dev) {
        if (dev.ranges().isEmpty()) {
            return true;
        }
        for (MemoryRun run : parts.memory().runs()) {
            long pos = run.frameBase();
            long end = run.frameBase() + run.size();
            while (Long.compareUnsigned(pos, end) < 0) {
                io.dmadirect.DmaRange covering = null;
                for (io.dmadirect.DmaRange m : dev.ranges()) {
                    if (Long.compareUnsigned(pos, m.cpuStart()) >= 0 && Long.compareUnsigned(pos - m.cpuStart(), m.size()) < 0) {
                        covering = m;
                        break;
                    }
                }
                if (covering == null) {
                    return false;
                }
                pos = covering.cpuStart() + covering.size();
            }
        }
        return true;
    }

    long lowestDmaEnd(DeviceDma dev) {
        long lowest = DmaDirect.DMA_MAPPING_ERROR;
        long frameSize = parts.memory().frameSize();
        for (MemoryRun run : parts.memory().runs()) {
            long end = DmaDirect.lowestReachableEnd(dev, run.frameBase(), run.size(), frameSize);
            if (Long.compareUnsigned(end, lowest) < 0) {
                lowest = end;
            }
        }
        return lowest;
    }

    PageAllocator pages() {
        return parts.pages();
    }

    boolean isClosed() {
        return gate.isClosed();
    }

    /** A device whose close timed out: the platform must then keep its memory mapped (leak it). */
    void stuck(DirectDevice device) {
        LOG.log(System.Logger.Level.WARNING, "direct: " + device + " did not drain its operations; the memory of "
                + this + " will be leaked at close rather than unmapped under them");
    }

    /**
     * Refuses new attaches, waits for those in flight, closes every device (each waits for its own
     * operations and frees what its driver left), and only then frees the pools and unmaps the memory.
     * Idempotent; a second caller waits until the first is done.
     *
     * @throws DmaUsageException when a device's operations did not finish in time: the memory is then
     *         left mapped (leaked), never unmapped under a running operation
     */
    @Override
    public synchronized void close() {
        if (!gate.close()) {
            return;
        }
        boolean drained = gate.awaitQuiescence(Lifecycle.DEFAULT_WAIT_NANOS);
        DmaUsageException failure = drained ? null
                : new DmaUsageException("failed to close " + this + ": a device attach did not finish");
        for (DirectDevice device : devices.toArray(new DirectDevice[0])) {
            try {
                device.close();
            } catch (DmaUsageException e) {
                failure = e;
            }
        }
        if (failure != null || !devices.isEmpty()) {
            // A device closed earlier timed out and stayed attached: its operations may still run.
            leaked(0, "closing " + this + " left its memory mapped: operations were still running");
            throw failure != null ? failure : new DmaUsageException("failed to close " + this + ": devices "
                    + devices + " did not drain their operations; the memory is left mapped (leaked)");
        }
        pools.close();
        if (swiotlb != null) {
            swiotlb.close();
        }
        parts.pages().drainThreadCaches();
        parts.pages().close();
        parts.memory().close();
    }

    @Override
    public String toString() {
        return "DmaPlatform[" + parts.name() + "]";
    }
}
