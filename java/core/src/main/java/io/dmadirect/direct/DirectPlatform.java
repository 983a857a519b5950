package io.dmadirect.direct;

import io.dmadirect.DeviceProperties;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaMask;
import io.dmadirect.DmaPlatform;
import io.dmadirect.DmaUsageException;
import io.dmadirect.MemoryStats;
import io.dmadirect.memory.PageAllocator;
import io.dmadirect.pool.AtomicPools;
import io.dmadirect.spi.MemoryRun;
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
    private final Set<DirectDevice> devices = ConcurrentHashMap.newKeySet();
    private final AtomicLong leakedBytes = new AtomicLong();
    private volatile boolean closed;

    public DirectPlatform(PlatformParts parts) {
        this.parts = parts;
        this.pools = new AtomicPools(parts.pages(), parts.pages().stats(), parts.atomicPoolBytes(),
                parts.atomicPoolMaxBytes(), this::preparePoolChunk);
    }

    /** {@code atomic_pool_expand()}: pool memory is cleaned and made shared before anyone can take it. */
    private boolean preparePoolChunk(long phys, long cpu, long size) {
        parts.caches().flush(cpu, size);
        boolean needsSharing = parts.guestMemEncrypt() || parts.encryption().encryptionMask() != 0;
        if (needsSharing && parts.encryption().canShare()) {
            return parts.encryption().setDecrypted(phys, size);
        }
        return true;
    }

    @Override
    public DmaDevice attach(DeviceProperties properties) {
        checkOpen("attach a device");
        DirectDevice device = new DirectDevice(this, properties);
        devices.add(device);
        if (closed) {
            // close() ran between the check and the add: do not leave a device it missed.
            devices.remove(device);
            checkOpen("attach a device");
        }
        return device;
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
        parts.pages().drainThreadCaches();
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

    /** The end of the lowest frame held: the floor of {@code dma_direct_supported()}. */
    long lowestPhysEnd() {
        long lowest = -1L;
        for (MemoryRun run : parts.memory().runs()) {
            long end = run.physBase() + parts.memory().frameSize() - 1;
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
        return closed;
    }

    void checkOpen(String what) {
        if (closed) {
            throw new DmaUsageException("failed to " + what + ": platform " + parts.name() + " is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (DirectDevice device : devices.toArray(new DirectDevice[0])) {
            device.close();
        }
        pools.close();
        parts.pages().drainThreadCaches();
        parts.pages().close();
        parts.memory().close();
    }

    @Override
    public String toString() {
        return "DmaPlatform[" + parts.name() + "]";
    }
}
