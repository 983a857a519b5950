package io.dmadirect.direct;

import static io.dmadirect.Sizes.format;
import static io.dmadirect.Sizes.hex;

import io.dmadirect.Addresses;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMapping;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaUsageException;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.spi.CacheMaintenance;
import io.dmadirect.swiotlb.BounceOverrides;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The streaming DMA API of one device over dma-direct: {@code dma_direct_map_phys()},
 * {@code dma_direct_unmap_phys()}, the syncs and {@code dma_direct_map_sg()}, with swiotlb behind them.
 *
 * <p>The direct path takes no lock and makes one object: the CPU address is translated by a table
 * lookup, {@code dma_capable()} is two comparisons, and unmapping is one compare-and-set.
 */
final class StreamingMapper {
    private static final System.Logger LOG = System.getLogger("io.dmadirect.direct");

    final DirectDevice device;
    private final DirectPlatform platform;
    private final CacheMaintenance caches;
    /** {@code dev_is_dma_coherent()}: fixed by the hardware, so read once. */
    private final boolean coherent;
    private volatile long minAlignMask;
    /** {@code dev_warn_ratelimited()}'s default: at most 10 messages in 5 seconds, per device. */
    private final RateLimit warnings = new RateLimit(10, 5_000_000_000L);

    StreamingMapper(DirectDevice device, DirectPlatform platform, boolean coherent) {
        this.device = device;
        this.platform = platform;
        this.caches = platform.parts.caches();
        this.coherent = coherent;
    }

    /**
     * {@code is_swiotlb_force_bounce()}: {@code swiotlb=force}, a restricted pool, a confidential guest (x86's
     * {@code pci_swiotlb_detect()} sets {@code SWIOTLB_FORCE} when {@code CC_ATTR_GUEST_MEM_ENCRYPT}), and the
     * process-wide {@code swiotlb=force} of {@link BounceOverrides} (tests, the agent's injection).
     *
     * <p>Not {@code force_dma_unencrypted()}: that reads the coherent mask and decides where coherent memory
     * comes from. Under host SME the streaming path decides from the streaming mask alone: {@code phys_to_dma()}
     * sets the encryption bit and {@code dma_capable()} bounces what the mask cannot carry.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/swiotlb.h">is_swiotlb_force_bounce</a>
     */
    boolean forceBounce(DevicePolicy p) {
        Swiotlb tlb = platform.swiotlb;
        return (tlb != null && tlb.forceBounce()) || p.dma.restrictedPool() || p.dma.guestMemEncrypt()
                || BounceOverrides.forced();
    }

    /**
     * {@code dma_kmalloc_needs_bounce()}: a non-coherent device must not get a direct mapping of memory that
     * shares a cache line with CPU data, because the invalidate at unmap (or a neighbour's write-back while
     * the device writes) would lose one side's bytes. As in {@code dma_kmalloc_safe()}, a coherent device and
     * {@code TO_DEVICE} (clean only, non-destructive) are safe.
     *
     * <p>The kernel decides from the size alone, because kmalloc aligns every buffer of
     * {@code 2 * ARCH_DMA_MINALIGN} or more; a slice of a {@link ByteBuffer} has no such guarantee, so here
     * both ends are checked against the cache line ({@code dma_get_cache_alignment()}).
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-map-ops.h">dma_kmalloc_needs_bounce</a>
     */
    private boolean sharesCacheLines(long addr, long size, DmaDirection dir) {
        if (coherent || dir == DmaDirection.TO_DEVICE) {
            return false;
        }
        long line = cacheAlignment();
        return (addr & (line - 1)) != 0 || (size & (line - 1)) != 0;
    }

    /**
     * {@code dma_get_cache_alignment()}: the platform's cache line, 64 bytes unless its caches say otherwise.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_get_cache_alignment</a>
     */
    long cacheAlignment() {
        return caches.lineBytes();
    }

    /**
     * {@code dma_direct_map_phys()} for a buffer.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_map_phys</a>
     */
    DmaMapping map(ByteBuffer buffer, DmaDirection dir, int attrs) {
        checkDirection(dir, "map");
        int size = buffer.remaining();
        checkSize(size);
        if (!buffer.isDirect()) {
            if (!buffer.hasArray()) {
                throw new IllegalArgumentException("failed to map a read-only heap ByteBuffer: the library cannot copy "
                        + "through it; map a direct buffer, or wrap a writable array");
            }
            return mapArray(buffer, buffer.array(), buffer.arrayOffset() + buffer.position(), size, dir, attrs);
        }
        if (buffer.isReadOnly() && dir != DmaDirection.TO_DEVICE) {
            throw new IllegalArgumentException("failed to map a read-only buffer " + dir + ": the device would write into it");
        }
        device.checkOpen("map a buffer");
        DevicePolicy p = device.policy();
        // No size check here: dma_max_mapping_size() is advisory, and memory the device reaches maps
        // directly at any size (dma_direct_map_phys); only a bounce is bounded, in bounce().
        long cpu = RawMemory.addressOf(buffer) + buffer.position();
        long phys = platform.cpuToPhys(cpu, size);
        if (phys != Addresses.NONE && !forceBounce(p)) {
            // Memory the platform made shared (pool memory, another device's decrypted buffer) is addressed
            // without the encryption bit, or the device reads ciphertext; only an SME platform needs the lookup.
            long dma = p.dma.encryptionMask() != 0 && platform.isSharedMemory(phys)
                    ? DmaDirect.physToDmaUnencrypted(p.dma, phys) : DmaDirect.physToDma(p.dma, phys);
            if (DmaDirect.capable(p.dma, dma, size) && !sharesCacheLines(phys, size, dir)) {
                if (coherent || DmaAttr.SKIP_CPU_SYNC.in(attrs)) {
                    // Addresses only, no memory touched: the open check above is the whole contract.
                    return new StreamingMapping(this, dma, size, dir, buffer, null, 0, cpu, Swiotlb.NONE,
                            Addresses.NO_CPU_ADDRESS);
                }
                int ticket = device.enter("map a buffer");
                try {
                    archSyncForDevice(cpu, size, dir);
                    return new StreamingMapping(this, dma, size, dir, buffer, null, 0, cpu, Swiotlb.NONE,
                            Addresses.NO_CPU_ADDRESS);
                } finally {
                    device.gate.exit(ticket);
                }
            }
        }
        // The kernel keeps the low bits of the physical address; where there is none, the virtual one's
        // agree with it below the page size, which is what min_align_mask asks for.
        long origAddr = phys != Addresses.NONE ? phys : cpu;
        int ticket = device.enter("map a buffer");
        try {
            return bounce(p, buffer, null, 0, cpu, origAddr, size, dir, attrs);
        } catch (DmaMappingException e) {
            throw warned(e, attrs);
        } finally {
            device.gate.exit(ticket);
        }
    }

    /** {@code dma_map_single()} of a heap array: always a bounce. */
    DmaMapping map(byte[] array, int offset, int length, DmaDirection dir, int attrs) {
        checkDirection(dir, "map");
        java.util.Objects.checkFromIndexSize(offset, length, array.length);
        checkSize(length);
        return mapArray(array, array, offset, length, dir, attrs);
    }

    private DmaMapping mapArray(Object keep, byte[] array, int offset, int length, DmaDirection dir, int attrs) {
        int ticket = device.enter("map a buffer");
        try {
            DevicePolicy p = device.policy();
            return bounce(p, keep, array, offset, Addresses.NO_CPU_ADDRESS, offset, length, dir, attrs);
        } catch (DmaMappingException e) {
            throw warned(e, attrs);
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * {@code swiotlb_map()}: slots from the pool, the original copied in, the bounce address checked
     * against the device's reach.
     *
     * <p>The copy at map time is made for every direction, as the kernel does since its fix for leaking
     * stale bounce data (CVE-2022-0854): a device that writes only part of a {@code FROM_DEVICE} buffer
     * must leave the rest as it was, not as an earlier mapping left the slots.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_map</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_max_mapping_size</a>
     */
    private DmaMapping bounce(DevicePolicy p, Object keep, byte[] array, int arrayOffset, long origCpu, long origAddr,
            long size, DmaDirection dir, int attrs) {
        Swiotlb tlb = platform.swiotlb;
        if (tlb == null) {
            throw new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the memory must bounce (" + whyBounce(p, array != null || origCpu == Addresses.NO_CPU_ADDRESS,
                            origAddr, size, dir) + ") and the platform has no "
                    + "bounce pool. Build the platform with a swiotlb pool");
        }
        if ((p.dma.guestMemEncrypt() || p.dma.encryptionMask() != 0) && !platform.parts.encryption().canShare()) {
            // The pool could not be made shared, so a bounce would hand the device private memory.
            throw new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the device needs shared (unencrypted) memory and this platform cannot share memory with "
                    + "devices (a process cannot convert pages the way the kernel's set_memory_decrypted() does)");
        }
        long minAlign = minAlignMask;
        if (size > Swiotlb.maxMappingSize(minAlign)) {
            // swiotlb_max_mapping_size(): the one bound on a streaming mapping, and only on a bounced one.
            throw new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": it must bounce (" + whyBounce(p, array != null || origCpu == Addresses.NO_CPU_ADDRESS,
                            origAddr, size, dir) + ") and a bounced mapping holds at most "
                    + format(Swiotlb.maxMappingSize(minAlign)) + " (swiotlb_max_mapping_size: one swiotlb segment, "
                    + "less min_align_mask " + hex(minAlign) + "). Split the transfer");
        }
        long physLimit = DmaDirect.dmaToPhys(p.dma, DmaDirect.streamingLimit(p.dma));
        long handle = tlb.mapSingle(origAddr, size, minAlign, 0, p.dma.segBoundaryMask(), physLimit, !DmaAttr.ATOMIC.in(attrs),
                p.physToDmaUnencrypted);
        if (handle == Swiotlb.NONE) {
            if (!tlb.reaches(physLimit)) {
                throw new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                        + ": the bounce pool at " + hex(tlb.firstPhysAddress()) + ".." + hex(tlb.lastPhysAddress())
                        + " lies beyond the device's reach (" + reach(p) + "). Reserve low memory for the pool, or "
                        + "allow extra pools (SwiotlbConfig dynamicMaxBytes) so one is taken below the limit");
            }
            throw new DmaMappingException("failed to map " + format(size) + " for " + device.name() + ": "
                    + tlb.describeFull(size));
        }
        long tlbPhys = tlb.physAddress(handle);
        long dma = DmaDirect.physToDmaUnencrypted(p.dma, tlbPhys);
        if (!DmaDirect.capable(p.dma, dma, size)) {
            tlb.release(handle);
            throw new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the bounce buffer at DMA " + hex(dma) + " lies beyond the device's reach (" + reach(p)
                    + "). Place the bounce pool lower, or allow extra pools (SwiotlbConfig dynamicMaxBytes)");
        }
        long tlbCpu = tlb.cpuAddress(handle);
        StreamingMapping mapping = new StreamingMapping(this, dma, size, dir, keep, array, arrayOffset, origCpu,
                handle, tlbCpu);
        copyIn(tlb, mapping, 0, size);
        if (!coherent && !DmaAttr.SKIP_CPU_SYNC.in(attrs)) {
            archSyncForDevice(tlbCpu, size, dir);
        }
        tlb.setOwner(handle, mapping);
        return mapping;
    }

    private static String reach(DevicePolicy p) {
        return "mask " + p.dma.dmaMask() + ", bus limit " + (p.dma.busDmaLimit() == 0 ? "none" : hex(p.dma.busDmaLimit()));
    }

    private String whyBounce(DevicePolicy p, boolean heap, long addr, long size, DmaDirection dir) {
        if (heap) {
            return "heap memory moves";
        }
        if (forceBounce(p)) {
            return p.dma.guestMemEncrypt() ? "the device is forced unencrypted" : "bounce is forced";
        }
        if (sharesCacheLines(addr, size, dir)) {
            return "the device is not cache-coherent and the memory shares " + cacheAlignment()
                    + "-byte cache lines with other data";
        }
        return "it is not pinned DMA memory within mask " + p.dma.dmaMask();
    }

    /**
     * Logs a mapping failure unless the caller said it expects one ({@code DMA_ATTR_NO_WARN}, which the kernel
     * reads in {@code swiotlb_tbl_map_single()} before its "swiotlb buffer is full" warning), then hands the
     * exception back to be thrown. Rate-limited as {@code dev_warn_ratelimited()} is (10 in 5 s).
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_tbl_map_single</a>
     */
    private DmaMappingException warned(DmaMappingException e, int attrs) {
        if (!DmaAttr.NO_WARN.in(attrs) && warnings.allow()) {
            LOG.log(System.Logger.Level.WARNING, "direct: " + e.getMessage());
        }
        return e;
    }

    /**
     * {@code dma_direct_map_sg()}: each buffer mapped on its own; on a failure the segments already mapped
     * are unmapped without syncing, and the error names the segment.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_map_sg</a>
     */
    MappedScatterList mapSg(List<ByteBuffer> buffers, DmaDirection dir, int attrs) {
        checkDirection(dir, "map a scatter list");
        if (buffers.isEmpty()) {
            throw new IllegalArgumentException("failed to map a scatter list: it has no buffers");
        }
        List<DmaMapping> mapped = new ArrayList<>(buffers.size());
        for (int i = 0; i < buffers.size(); i++) {
            try {
                mapped.add(map(buffers.get(i), dir, attrs));
            } catch (RuntimeException e) {
                for (DmaMapping m : mapped) {
                    release((StreamingMapping) m, true);
                }
                if (e instanceof DmaMappingException) {
                    throw new DmaMappingException("failed to map segment " + i + " of " + buffers.size()
                            + " of a scatter list; the " + i + " before it were unmapped: " + e.getMessage());
                }
                throw e;
            }
        }
        return new MappedScatterList(device, mapped, dir);
    }

    /**
     * {@code dma_direct_unmap_sg()}: every segment still mapped is released, with the unmap's attributes,
     * even when one was unmapped on its own before (a driver bug the kernel does not survive either); that
     * misuse is reported after the rest was released, so nothing stays mapped and
     * {@link MappedScatterList#isUnmapped()} is true.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_unmap_sg</a>
     */
    void unmapSg(MappedScatterList list, DmaAttr[] attrs) {
        if (!list.markUnmapped()) {
            throw new DmaUsageException("failed to unmap " + list + ": it was already unmapped (double unmap)");
        }
        List<Integer> alone = new ArrayList<>();
        List<DmaMapping> segments = list.segments();
        for (int i = 0; i < segments.size(); i++) {
            StreamingMapping m = (StreamingMapping) segments.get(i);
            if (m.isReleased()) {
                alone.add(i);
                continue;
            }
            try {
                m.closeWith(attrs); // each segment's own close, which the agent's DMA-API debug watches
            } catch (DmaUsageException raced) {
                alone.add(i); // another thread unmapped it alone meanwhile
            }
        }
        if (!alone.isEmpty()) {
            throw new DmaUsageException("unmapped " + list + ", but segments " + alone + " had been unmapped on their "
                    + "own before: a scatter list is unmapped whole (dma_unmap_sg), never by segment");
        }
    }

    /**
     * {@code dma_direct_unmap_phys()}: CPU caches first, then the bounce copy back and the slots released.
     * The attributes are the unmap's own, as {@code dma_unmap_single_attrs()} takes them: {@code SKIP_CPU_SYNC}
     * at map time skipped only the map-time sync, and only {@code SKIP_CPU_SYNC} here skips the sync and the
     * copy back of the unmap (then the driver must have synced for the CPU itself).
     *
     * @param attrs the unmap's attributes as {@link DmaAttr#flags} bits
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_unmap_phys</a>
     */
    void unmap(DmaMapping mapping, int attrs, boolean quietWhenClosed) {
        StreamingMapping m = own(mapping, "unmap");
        boolean skipSync = DmaAttr.SKIP_CPU_SYNC.in(attrs);
        if (m.tlbHandle == Swiotlb.NONE && (coherent || skipSync)) {
            // Nothing to sync, copy or free: a state change only, so no gate (see map).
            if (device.isClosed()) {
                if (quietWhenClosed) {
                    return;
                }
                device.checkOpen("unmap a mapping");
            }
            markUnmappedOrThrow(m);
            return;
        }
        int ticket = quietWhenClosed ? device.gate.tryEnter() : device.enter("unmap a mapping");
        if (ticket < 0) {
            return; // the device's close released it
        }
        try {
            markUnmappedOrThrow(m);
            release(m, skipSync);
        } finally {
            device.gate.exit(ticket);
        }
    }

    private static void markUnmappedOrThrow(StreamingMapping m) {
        if (!m.markUnmapped()) {
            throw new DmaUsageException("failed to unmap " + m + ": it was already unmapped (double unmap)");
        }
    }

    private void release(StreamingMapping m, boolean skipSync) {
        m.markUnmapped();
        if (!coherent && !skipSync) {
            archSyncForCpu(m.deviceSideCpu(), m.size, m.direction);
        }
        if (m.tlbHandle != Swiotlb.NONE) {
            Swiotlb tlb = platform.swiotlb;
            if (!skipSync && copiesFromDevice(m.direction)) {
                copyBack(tlb, m, 0, m.size);
            }
            tlb.release(m.tlbHandle);
        }
    }

    /**
     * {@code dma_direct_sync_single_for_cpu()}: invalidate CPU caches, then copy the bounce buffer back.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_sync_single_for_cpu</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_sync_single_for_cpu</a>
     */
    void syncForCpu(DmaMapping mapping, long offset, long length, DmaDirection dir) {
        StreamingMapping m = own(mapping, "sync for the CPU");
        if (coherent && m.tlbHandle == Swiotlb.NONE) {
            device.checkOpen("sync a mapping for the CPU"); // touches no memory: see map
            checkSync(m, offset, length, dir, "sync for the CPU");
            return;
        }
        int ticket = device.enter("sync a mapping for the CPU");
        try {
            checkSync(m, offset, length, dir, "sync for the CPU");
            if (!coherent) {
                archSyncForCpu(m.deviceSideCpu() + offset, length, dir);
            }
            if (m.tlbHandle != Swiotlb.NONE && copiesFromDevice(dir)) {
                copyBack(platform.swiotlb, m, offset, length);
            }
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * {@code dma_direct_sync_single_for_device()}: copy into the bounce buffer, then clean CPU caches.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_sync_single_for_device</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_sync_single_for_device</a>
     */
    void syncForDevice(DmaMapping mapping, long offset, long length, DmaDirection dir) {
        StreamingMapping m = own(mapping, "sync for the device");
        if (coherent && m.tlbHandle == Swiotlb.NONE) {
            device.checkOpen("sync a mapping for the device"); // touches no memory: see map
            checkSync(m, offset, length, dir, "sync for the device");
            return;
        }
        int ticket = device.enter("sync a mapping for the device");
        try {
            checkSync(m, offset, length, dir, "sync for the device");
            if (m.tlbHandle != Swiotlb.NONE && copiesToDevice(dir)) {
                copyIn(platform.swiotlb, m, offset, length);
            }
            if (!coherent) {
                archSyncForDevice(m.deviceSideCpu() + offset, length, dir);
            }
        } finally {
            device.gate.exit(ticket);
        }
    }

    /** {@code swiotlb_bounce(..., DMA_TO_DEVICE)} of {@code [offset, offset + length)} of the mapping. */
    private static void copyIn(Swiotlb tlb, StreamingMapping m, long offset, long length) {
        if (m.array != null) {
            tlb.bounceToDevice(m.array, m.arrayOffset + (int) offset, m.tlbCpu + offset, (int) length);
        } else {
            tlb.bounceToDevice(m.origCpu + offset, m.tlbCpu + offset, length);
        }
    }

    /** {@code swiotlb_bounce(..., DMA_FROM_DEVICE)} of {@code [offset, offset + length)} of the mapping. */
    private static void copyBack(Swiotlb tlb, StreamingMapping m, long offset, long length) {
        if (m.array != null) {
            tlb.bounceFromDevice(m.tlbCpu + offset, m.array, m.arrayOffset + (int) offset, (int) length);
        } else {
            tlb.bounceFromDevice(m.tlbCpu + offset, m.origCpu + offset, length);
        }
    }

    private static boolean copiesToDevice(DmaDirection dir) {
        return dir == DmaDirection.TO_DEVICE || dir == DmaDirection.BIDIRECTIONAL;
    }

    private static boolean copiesFromDevice(DmaDirection dir) {
        return dir == DmaDirection.FROM_DEVICE || dir == DmaDirection.BIDIRECTIONAL;
    }

    /** {@code arch_sync_dma_for_device()}: write back what the device reads, drop what it will overwrite. */
    private void archSyncForDevice(long cpu, long size, DmaDirection dir) {
        ArchSync.forDevice(caches, cpu, size, dir);
    }

    /** {@code arch_sync_dma_for_cpu()}: drop lines the CPU may have fetched while the device wrote. */
    private void archSyncForCpu(long cpu, long size, DmaDirection dir) {
        ArchSync.forCpu(caches, cpu, size, dir);
    }

    /**
     * {@code dma_direct_max_mapping_size()}: the pool's limit when this device may bounce any memory it
     * maps ({@code dma_addressing_limited} or forced bounce), unlimited otherwise.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_max_mapping_size</a>
     */
    long maxMappingSize() {
        DevicePolicy p = device.policy();
        if (platform.swiotlb != null && (addressingLimited(p) || forceBounce(p))) {
            return Swiotlb.maxMappingSize(minAlignMask);
        }
        return Long.MAX_VALUE;
    }

    /** {@code dma_addressing_limited()}: the streaming limit falls short of the required mask. */
    private boolean addressingLimited(DevicePolicy p) {
        return Long.compareUnsigned(DmaDirect.streamingLimit(p.dma), device.requiredMask().value()) < 0;
    }

    void setMinAlignMask(long mask) {
        if (mask < 0 || mask > 0xffff || (mask & (mask + 1)) != 0) {
            throw new IllegalArgumentException("failed to set min_align_mask on " + device.name()
                    + ": it must be 0 or 2^n - 1 for n up to 16, got " + hex(mask));
        }
        minAlignMask = mask;
    }

    long minAlignMask() {
        return minAlignMask;
    }

    /** The bounced mapping whose bounce buffer holds {@code dmaAddress}, through the pool's slot owners. */
    Optional<DmaMapping> findMapping(long dmaAddress) {
        Swiotlb tlb = platform.swiotlb;
        if (tlb == null) {
            return Optional.empty();
        }
        long phys = DmaDirect.dmaToPhys(device.policy().dma, dmaAddress);
        Object owner = phys == Addresses.NONE ? null : tlb.ownerAt(phys);
        if (owner instanceof StreamingMapping) {
            StreamingMapping m = (StreamingMapping) owner;
            long offset = dmaAddress - m.dmaAddress();
            if (m.mapper == this && !m.isReleased() && offset >= 0 && offset < m.size) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Releases the bounce slots of mappings the driver left, without copying: the device is going away. */
    void releaseLeftovers() {
        Swiotlb tlb = platform.swiotlb;
        if (tlb == null) {
            return;
        }
        List<StreamingMapping> leftover = new ArrayList<>();
        tlb.forEachOwner(owner -> {
            if (owner instanceof StreamingMapping && ((StreamingMapping) owner).mapper == this) {
                leftover.add((StreamingMapping) owner);
            }
        });
        for (StreamingMapping m : leftover) {
            if (m.markUnmapped()) {
                tlb.release(m.tlbHandle);
            }
        }
    }

    private StreamingMapping own(DmaMapping mapping, String what) {
        java.util.Objects.requireNonNull(mapping, "mapping");
        if (!(mapping instanceof StreamingMapping) || ((StreamingMapping) mapping).mapper != this) {
            throw new DmaUsageException("failed to " + what + " " + mapping + " through device " + device.name()
                    + ": it was mapped by " + (mapping instanceof StreamingMapping ? "another device" : "no dmadirect device"));
        }
        return (StreamingMapping) mapping;
    }

    /**
     * What dma-debug's {@code check_sync()} reports, made an error: a sync of an unmapped mapping, outside its
     * range, or in a direction other than the mapping's. A {@code BIDIRECTIONAL} mapping may be synced in any
     * direction ({@code check_sync()} returns before comparing), and the sync then does what its own direction
     * asks ({@code dma_direct_sync_single_for_cpu/device()} take the sync's direction, not the mapping's).
     * {@code NONE} is no direction ({@code BUG_ON(!valid_dma_direction(dir))} in {@code mapping.c}).
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/debug.c">check_sync</a>
     */
    private StreamingMapping checkSync(StreamingMapping m, long offset, long length, DmaDirection dir, String what) {
        checkDirection(dir, what);
        if (m.isReleased()) {
            throw new DmaUsageException("failed to " + what + " " + m + ": it was unmapped");
        }
        if (m.direction != DmaDirection.BIDIRECTIONAL && dir != m.direction) {
            throw new DmaUsageException("failed to " + what + " " + m + " as " + dir + ": it was mapped " + m.direction
                    + ", and a sync must name the mapping's direction (only a BIDIRECTIONAL mapping may be synced "
                    + "in any direction; dma-debug's check_sync)");
        }
        if (offset < 0 || length < 1 || offset > m.size - length) {
            throw new DmaUsageException("failed to " + what + " " + m + ": the range [" + offset + ", " + offset + " + "
                    + length + ") is not inside the mapping's " + m.size + " bytes");
        }
        return m;
    }

    private static void checkDirection(DmaDirection dir, String what) {
        if (dir == null || dir == DmaDirection.NONE) {
            throw new IllegalArgumentException("failed to " + what + ": the direction must be TO_DEVICE, FROM_DEVICE or "
                    + "BIDIRECTIONAL, got " + dir);
        }
    }

    private void checkSize(long size) {
        if (size < 1) {
            throw new IllegalArgumentException("failed to map a buffer for " + device.name()
                    + ": a mapping needs at least 1 byte, got " + size);
        }
    }
}
