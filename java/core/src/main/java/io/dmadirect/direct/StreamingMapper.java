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
    static final int SKIP_CPU_SYNC = DmaAttr.flags(DmaAttr.SKIP_CPU_SYNC);
    /** {@code DmaDirection.values()} once: the call clones the array each time. */
    static final DmaDirection[] DIRECTIONS = DmaDirection.values();

    final DirectDevice device;
    final DirectPlatform platform;
    private final CacheMaintenance caches;
    /** {@code dev_is_dma_coherent()}: fixed by the hardware, so read once. */
    final boolean coherent;
    private volatile long minAlignMask;
    /** {@code dma_parms->max_segment_size}: {@code pci_device_add()} sets 64 KiB. */
    volatile long maxSegSize = SegmentLimits.DEFAULT_MAX_SEG_SIZE;
    /** The primitive streaming API over this mapper: see {@link PrimitiveStreaming}. */
    final PrimitiveStreaming primitive;
    /** {@code dev_warn_ratelimited()}'s default: at most 10 messages in 5 seconds, per device. */
    private final RateLimit warnings = new RateLimit(10, 5_000_000_000L);
    /** {@code swiotlb=force} of the platform's pool: fixed when the pool is made, so read once. */
    private final boolean poolForcesBounce;

    StreamingMapper(DirectDevice device, DirectPlatform platform, boolean coherent) {
        this.device = device;
        this.platform = platform;
        this.caches = platform.parts.caches();
        this.coherent = coherent;
        this.poolForcesBounce = platform.swiotlb != null && platform.swiotlb.forceBounce();
        this.primitive = new PrimitiveStreaming(this); // last: it reads the fields above
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
        return poolForcesBounce || p.deviceForcesBounce || BounceOverrides.forced();
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
            return mapArray(buffer, heapArray(buffer), buffer.arrayOffset() + buffer.position(), size, dir, attrs);
        }
        checkWritable(buffer, dir);
        device.checkOpen("map a buffer");
        DevicePolicy p = device.policy();
        // No size check here: dma_max_mapping_size() is advisory, and memory the device reaches maps
        // directly at any size (dma_direct_map_phys); only a bounce is bounded, in bounce().
        long cpu = RawMemory.addressOf(buffer) + buffer.position();
        long phys = platform.cpuToPhys(cpu, size);
        long dma = mapDirect(p, cpu, phys, size, dir, attrs);
        if (dma != Addresses.NONE) {
            return StreamingMapping.direct(this, dma, size, dir, buffer, cpu);
        }
        int ticket = device.enter("map a buffer");
        try {
            long handle = bounce(p, null, buffer, cpu, origAddr(phys, cpu), size, dir, attrs);
            return owned(StreamingMapping.bounced(this, bounceDma(p, handle), size, dir, buffer, handle));
        } catch (DmaMappingException e) {
            throw warned(e, attrs);
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * {@code dma_direct_map_phys()}'s direct branch: the DMA address when the device can take the memory where
     * it lies (cache maintenance done for a non-coherent device), or {@link Addresses#NONE} when it must bounce.
     * The open check is the caller's; only the cache maintenance, which touches memory, enters the gate.
     */
    long mapDirect(DevicePolicy p, long cpu, long phys, long size, DmaDirection dir, int attrs) {
        if (phys == Addresses.NONE || forceBounce(p)) {
            return Addresses.NONE;
        }
        // Memory the platform made shared (pool memory, another device's decrypted buffer) is addressed
        // without the encryption bit, or the device reads ciphertext; only an SME platform needs the lookup.
        long dma = p.identity ? phys : p.dma.encryptionMask() != 0 && platform.isSharedMemory(phys)
                ? DmaDirect.physToDmaUnencrypted(p.dma, phys) : DmaDirect.physToDma(p.dma, phys);
        if (!p.capable(dma, size) || sharesCacheLines(phys, size, dir)) {
            return Addresses.NONE;
        }
        if (!coherent && !DmaAttr.SKIP_CPU_SYNC.in(attrs)) {
            int ticket = device.enter("map a buffer");
            try {
                archSyncForDevice(cpu, size, dir);
            } finally {
                device.gate.exit(ticket);
            }
        }
        return dma;
    }

    /**
     * The address whose low bits a bounce keeps: the kernel keeps the physical address's; where there is none,
     * the virtual one's agree with it below the page size, which is what min_align_mask asks for.
     */
    static long origAddr(long phys, long cpu) {
        return phys != Addresses.NONE ? phys : cpu;
    }

    private StreamingMapping owned(StreamingMapping mapping) {
        platform.swiotlb.setOwner(mapping.tlbHandle(), mapping);
        return mapping;
    }

    long bounceDma(DevicePolicy p, long handle) {
        return unencryptedDma(p, platform.swiotlb.physAddress(handle));
    }

    /**
     * {@code phys_to_dma_unencrypted()} of a bounce buffer: the address itself for a device without dma-ranges
     * (the policy's function is null then), without asking the range list whether it is empty on every bounce.
     */
    private static long unencryptedDma(DevicePolicy p, long phys) {
        return p.physToDmaUnencrypted == null ? phys : DmaDirect.physToDmaUnencrypted(p.dma, phys);
    }

    static byte[] heapArray(ByteBuffer buffer) {
        if (!buffer.hasArray()) {
            throw new IllegalArgumentException("failed to map a read-only heap ByteBuffer: the library cannot copy "
                    + "through it; map a direct buffer, or wrap a writable array");
        }
        return buffer.array();
    }

    static void checkWritable(ByteBuffer buffer, DmaDirection dir) {
        if (buffer.isReadOnly() && dir != DmaDirection.TO_DEVICE) {
            throw new IllegalArgumentException("failed to map a read-only buffer " + dir + ": the device would write into it");
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
            long handle = bounce(p, null, array, offset, offset, length, dir, attrs);
            return owned(StreamingMapping.bounced(this, bounceDma(p, handle), length, dir, keep, handle));
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
    long bounce(DevicePolicy p, Object owner, Object keep, long orig, long origAddr, long size,
            DmaDirection dir, int attrs) {
        Swiotlb tlb = platform.swiotlb;
        long minAlign = minAlignMask;
        if ((attrs & RequireCoherent.BIT) != 0 || tlb == null || needsSharingItCannot(p)
                || size > Swiotlb.maxMappingSize(minAlign)) {
            throw bounceRefused(p, keep, origAddr, size, dir, attrs, minAlign);
        }
        long physLimit = p.dmaToPhys(p.streamingLimit);
        long handle = tlb.mapBounce(origAddr, size, minAlign, p.dma.segBoundaryMask(), physLimit, !DmaAttr.ATOMIC.in(attrs),
                p.physToDmaUnencrypted);
        if (handle == Swiotlb.NONE) {
            throw noSlots(p, tlb, physLimit, size);
        }
        long dma = unencryptedDma(p, tlb.physAddress(handle));
        if (!p.capable(dma, size)) {
            tlb.releaseUncopied(handle, size);
            throw new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the bounce buffer at DMA " + hex(dma) + " lies beyond the device's reach (" + reach(p)
                    + "). Place the bounce pool lower, or allow extra pools (SwiotlbConfig dynamicMaxBytes)");
        }
        tlb.record(handle, owner, keep, orig, size, dir.ordinal());
        copyInAtMap(tlb, handle, keep, orig, size); // counted by mapBounce
        if (!coherent && !DmaAttr.SKIP_CPU_SYNC.in(attrs)) {
            archSyncForDevice(tlb.cpuAddress(handle), size, dir);
        }
        return handle;
    }

    /**
     * Whether the device needs shared (unencrypted) memory and the pool could not be made shared, so a bounce
     * would hand it private memory.
     */
    private boolean needsSharingItCannot(DevicePolicy p) {
        return (p.dma.guestMemEncrypt() || p.dma.encryptionMask() != 0) && !platform.parts.encryption().canShare();
    }

    /**
     * Why {@link #bounce} refuses before it looks for slots, in the order it checks: the caller required a
     * coherent mapping, no pool, no shared pool for a device that needs one, or more than a bounce holds. Out of
     * line, so that the bounce itself stays small enough for the JIT to inline into the map.
     */
    private RuntimeException bounceRefused(DevicePolicy p, Object keep, long origAddr, long size, DmaDirection dir,
            int attrs, long minAlign) {
        boolean heap = keep instanceof byte[];
        if ((attrs & RequireCoherent.BIT) != 0) {
            return RequireCoherent.bounceRefused(device.name(), whyBounce(p, heap, origAddr, size, dir));
        }
        if (platform.swiotlb == null) {
            return new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the memory must bounce (" + whyBounce(p, heap, origAddr, size, dir) + ") and the platform has no "
                    + "bounce pool. Build the platform with a swiotlb pool");
        }
        if (needsSharingItCannot(p)) {
            return new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the device needs shared (unencrypted) memory and this platform cannot share memory with "
                    + "devices (a process cannot convert pages the way the kernel's set_memory_decrypted() does)");
        }
        // swiotlb_max_mapping_size(): the one bound on a streaming mapping, and only on a bounced one.
        return new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                + ": it must bounce (" + whyBounce(p, heap, origAddr, size, dir) + ") and a bounced mapping holds at most "
                + format(Swiotlb.maxMappingSize(minAlign)) + " (swiotlb_max_mapping_size: one swiotlb segment, "
                + "less min_align_mask " + hex(minAlign) + "). Split the transfer");
    }

    /** No slots for {@code size} bytes: the pool lies beyond the device's reach, or is full. */
    private DmaMappingException noSlots(DevicePolicy p, Swiotlb tlb, long physLimit, long size) {
        if (!tlb.reaches(physLimit)) {
            return new DmaMappingException("failed to map " + format(size) + " for " + device.name()
                    + ": the bounce pool at " + hex(tlb.firstPhysAddress()) + ".." + hex(tlb.lastPhysAddress())
                    + " lies beyond the device's reach (" + reach(p) + "). Reserve low memory for the pool, or "
                    + "allow extra pools (SwiotlbConfig dynamicMaxBytes) so one is taken below the limit");
        }
        return new DmaMappingException("failed to map " + format(size) + " for " + device.name() + ": "
                + tlb.describeFull(size));
    }

    /**
     * The map's {@code swiotlb_bounce(..., DMA_TO_DEVICE)} from what the caller holds rather than from what the slot
     * recorded ({@link #bounceCopy} reads the slot back: three look-ups of the pool per copy). The original is the
     * caller's own: a byte array checked against its bounds, a direct buffer the map checked the range of and
     * keeps reachable on its stack, or pinned platform memory that the gate the caller holds keeps mapped; so the
     * copy reads memory that cannot be freed under it, even if a racing bad unmap released the slot meanwhile.
     */
    private static void copyInAtMap(Swiotlb tlb, long handle, Object keep, long orig, long size) {
        long tlbCpu = tlb.cpuAddress(handle);
        if (keep instanceof byte[]) {
            tlb.copyInAtMap((byte[]) keep, (int) orig, tlbCpu, (int) size);
        } else {
            tlb.copyInAtMap(orig, tlbCpu, size);
        }
    }

    /** What the device reaches, for messages: its streaming mask and bus limit. */
    static String reach(DevicePolicy p) {
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
    DmaMappingException warned(DmaMappingException e, int attrs) {
        if (!DmaAttr.NO_WARN.in(attrs) && warnings.allow()) {
            LOG.log(System.Logger.Level.WARNING, "direct: " + e.getMessage());
        }
        return e;
    }

    /**
     * {@code dma_direct_map_sg()} through the object API: each buffer mapped on its own ({@link #mapSegments}).
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_map_sg</a>
     */
    MappedScatterList mapSg(List<ByteBuffer> buffers, DmaDirection dir, int attrs) {
        checkDirection(dir, "map a scatter list");
        if (buffers.isEmpty()) {
            throw new IllegalArgumentException("failed to map a scatter list: it has no buffers");
        }
        DmaMapping[] mapped = new DmaMapping[buffers.size()];
        mapSegments(buffers.toArray(new ByteBuffer[0]), mapped.length, dir, attrs, null, mapped);
        return new MappedScatterList(device, java.util.Arrays.asList(mapped), dir);
    }

    /**
     * {@code dma_direct_map_sg()}'s loop, one for both APIs: each buffer's {@code [position, limit)} mapped on its
     * own, through the primitive API ({@code mappingsOut} null: the addresses into {@code dmaOut}, nothing
     * allocated) or the object API (the mappings into {@code mappingsOut}). A segment longer than
     * {@link #maxSegSize} or whose DMA range crosses the segment boundary is refused (see {@link SegmentLimits});
     * on any failure the segments before it are unmapped without syncing ({@code out_unmap}), nothing stays
     * mapped, and the error names the segment. The limits are read once, before the first segment.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_map_sg</a>
     */
    void mapSegments(ByteBuffer[] buffers, int nents, DmaDirection dir, int attrs, long[] dmaOut,
            DmaMapping[] mappingsOut) {
        long maxSeg = maxSegSize;
        long boundary = device.policy().dma.segBoundaryMask();
        for (int i = 0; i < nents; i++) {
            try {
                ByteBuffer b = java.util.Objects.requireNonNull(buffers[i], "buffer");
                int length = b.remaining();
                String tooLong = SegmentLimits.tooLong(length, maxSeg);
                if (tooLong != null) {
                    throw new DmaMappingException(tooLong);
                }
                long dma;
                if (mappingsOut != null) {
                    mappingsOut[i] = map(b, dir, attrs);
                    dma = mappingsOut[i].dmaAddress();
                } else {
                    dma = primitive.mapSingle(b, b.position(), length, dir, attrs);
                    dmaOut[i] = dma;
                }
                String crosses = SegmentLimits.crossesBoundary(dma, length, boundary);
                if (crosses != null) {
                    undoSegment(buffers, i, dir, attrs, dmaOut, mappingsOut);
                    throw new DmaMappingException(crosses);
                }
            } catch (RuntimeException e) {
                for (int j = 0; j < i; j++) {
                    undoSegment(buffers, j, dir, attrs, dmaOut, mappingsOut);
                }
                if (e instanceof DmaMappingException) {
                    throw new DmaMappingException("failed to map segment " + i + " of " + nents + " of a scatter list "
                            + "on " + device.name() + "; the " + i + " before it were unmapped: " + e.getMessage());
                }
                throw e;
            }
        }
    }

    /** {@code out_unmap} of one segment {@link #mapSegments} mapped: released without a sync or a copy back. */
    private void undoSegment(ByteBuffer[] buffers, int i, DmaDirection dir, int attrs, long[] dmaOut,
            DmaMapping[] mappingsOut) {
        if (mappingsOut != null) {
            release((StreamingMapping) mappingsOut[i], true);
        } else {
            primitive.unmapSingle(dmaOut[i], buffers[i].remaining(), dir, attrs | SKIP_CPU_SYNC, true);
        }
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
        if (m.tlbHandle() == Swiotlb.NONE && (coherent || skipSync)) {
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
        if (coherent && (skipSync || !copiesFromDevice(m.direction))) {
            // A coherent device's bounce with nothing to copy back: only the pool's bookkeeping (Java arrays no
            // close frees), as PrimitiveStreaming.releaseWithoutCopy; the mapping's own compare-and-set decides
            // against the device's close, which releases what it marks.
            if (device.isClosed()) {
                if (quietWhenClosed) {
                    return;
                }
                device.checkOpen("unmap a mapping");
            }
            if (!m.markUnmapped()) {
                if (device.isClosed()) {
                    if (quietWhenClosed) {
                        return; // the device's close released it meanwhile
                    }
                    device.checkOpen("unmap a mapping");
                }
                throw doubleUnmap(m);
            }
            platform.swiotlb.release(m.tlbHandle());
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
            throw doubleUnmap(m);
        }
    }

    private static DmaUsageException doubleUnmap(StreamingMapping m) {
        return new DmaUsageException("failed to unmap " + m + ": it was already unmapped (double unmap)");
    }

    private void release(StreamingMapping m, boolean skipSync) {
        m.markUnmapped();
        if (!coherent && !skipSync) {
            archSyncForCpu(m.deviceSideCpu(), m.size(), m.direction);
        }
        if (m.tlbHandle() != Swiotlb.NONE) {
            // No claim: the mapping's own state made this the one release, and the primitive API refuses
            // addresses an object owns before it claims anything.
            unbounce(platform.swiotlb, m.tlbHandle(), m.size(), m.direction, skipSync);
        }
    }

    /**
     * {@code swiotlb_tbl_unmap_single()} of a claimed mapping: the copy back of {@code size} bytes when the
     * direction asks for it and the caller did not skip the sync, then the slots released.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_tbl_unmap_single</a>
     */
    static void unbounce(Swiotlb tlb, long handle, long size, DmaDirection dir, boolean skipSync) {
        if (!skipSync && copiesFromDevice(dir)) {
            bounceCopy(tlb, handle, 0, size, false, false);
            tlb.releaseCopiedBack(handle, size);
        } else {
            tlb.release(handle);
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
        if (coherent && m.tlbHandle() == Swiotlb.NONE) {
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
            if (m.tlbHandle() != Swiotlb.NONE && copiesFromDevice(dir)) {
                copyBack(platform.swiotlb, m.tlbHandle(), offset, length);
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
        if (coherent && m.tlbHandle() == Swiotlb.NONE) {
            device.checkOpen("sync a mapping for the device"); // touches no memory: see map
            checkSync(m, offset, length, dir, "sync for the device");
            return;
        }
        int ticket = device.enter("sync a mapping for the device");
        try {
            checkSync(m, offset, length, dir, "sync for the device");
            if (m.tlbHandle() != Swiotlb.NONE && copiesToDevice(dir)) {
                copyIn(platform.swiotlb, m.tlbHandle(), offset, length);
            }
            if (!coherent) {
                archSyncForDevice(m.deviceSideCpu() + offset, length, dir);
            }
        } finally {
            device.gate.exit(ticket);
        }
    }

    /** A sync's {@code swiotlb_bounce(..., DMA_TO_DEVICE)} of {@code [offset, offset + length)} of the mapping. */
    static void copyIn(Swiotlb tlb, long handle, long offset, long length) {
        bounceCopy(tlb, handle, offset, length, true, true);
    }

    /** A sync's {@code swiotlb_bounce(..., DMA_FROM_DEVICE)} of {@code [offset, offset + length)} of the mapping. */
    static void copyBack(Swiotlb tlb, long handle, long offset, long length) {
        bounceCopy(tlb, handle, offset, length, false, true);
    }

    /**
     * {@code swiotlb_bounce()}: the copy between the original and the bounce buffer, from what the slot recorded
     * ({@code orig_addr}), as the kernel finds it from the bounce address.
     *
     * @param sync a sync's copy, counted here; the map's and the unmap's are counted by their slot search and
     *             release ({@link Swiotlb#mapBounce}, {@link Swiotlb#releaseCopiedBack})
     */
    private static void bounceCopy(Swiotlb tlb, long handle, long offset, long length, boolean toDevice, boolean sync) {
        Object keep = tlb.keepOf(handle);
        long orig = tlb.origOf(handle) + offset;
        long tlbCpu = tlb.cpuAddress(handle) + offset;
        if (keep instanceof byte[]) {
            byte[] array = (byte[]) keep;
            int at = java.util.Objects.checkFromIndexSize((int) orig, (int) length, array.length);
            if (toDevice) {
                if (sync) {
                    tlb.bounceToDevice(array, at, tlbCpu, (int) length);
                } else {
                    tlb.copyInAtMap(array, at, tlbCpu, (int) length);
                }
            } else if (sync) {
                tlb.bounceFromDevice(tlbCpu, array, at, (int) length);
            } else {
                tlb.copyBackAtUnmap(tlbCpu, array, at, (int) length);
            }
        } else if (toDevice) {
            if (sync) {
                tlb.bounceToDevice(checkKept(keep, orig, length), tlbCpu, length);
            } else {
                tlb.copyInAtMap(checkKept(keep, orig, length), tlbCpu, length);
            }
        } else if (sync) {
            tlb.bounceFromDevice(tlbCpu, checkKept(keep, orig, length), length);
        } else {
            tlb.copyBackAtUnmap(tlbCpu, checkKept(keep, orig, length), length);
        }
    }

    /**
     * The raw address a copy goes to or from, checked against the buffer the slot holds: a driver that unmaps
     * one address on two threads at once could otherwise pair one mapping's address with another's buffer,
     * and a copy into freed memory would crash the JVM. Pinned platform memory ({@code keep} null) lives as
     * long as the platform, which the caller's gate holds open.
     */
    private static long checkKept(Object keep, long cpu, long length) {
        if (keep instanceof ByteBuffer) {
            ByteBuffer buffer = (ByteBuffer) keep;
            long start = RawMemory.addressOf(buffer);
            if (cpu < start || cpu - start > buffer.capacity() - length) {
                throw new DmaUsageException("failed to copy a bounce buffer: its slots changed hands while it was "
                        + "copied (an unmap or sync raced another unmap of the same address)");
            }
        }
        return cpu;
    }

    static boolean copiesToDevice(DmaDirection dir) {
        return dir == DmaDirection.TO_DEVICE || dir == DmaDirection.BIDIRECTIONAL;
    }

    static boolean copiesFromDevice(DmaDirection dir) {
        return dir == DmaDirection.FROM_DEVICE || dir == DmaDirection.BIDIRECTIONAL;
    }

    /** {@code arch_sync_dma_for_device()}: write back what the device reads, drop what it will overwrite. */
    void archSyncForDevice(long cpu, long size, DmaDirection dir) {
        ArchSync.forDevice(caches, cpu, size, dir);
    }

    /** {@code arch_sync_dma_for_cpu()}: drop lines the CPU may have fetched while the device wrote. */
    void archSyncForCpu(long cpu, long size, DmaDirection dir) {
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

    /**
     * {@code dma_addressing_limited()}: the streaming limit falls short of the required mask, or the device's
     * dma-ranges leave some of the memory uncovered ({@code !dma_direct_all_ram_mapped()}, since 6.11).
     */
    private boolean addressingLimited(DevicePolicy p) {
        return Long.compareUnsigned(DmaDirect.streamingLimit(p.dma), device.requiredMask().value()) < 0
                || !platform.allRamMapped(p.dma);
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
            if (m.mapper == this && !m.isReleased() && offset >= 0 && offset < m.size()) {
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
                tlb.release(m.tlbHandle());
            }
        }
        // The primitive mappings (mapSingle, mapSg) are recorded with this mapper as their owner.
        List<Long> primitive = new ArrayList<>();
        tlb.forEachLive(this, primitive::add);
        for (long handle : primitive) {
            if (tlb.claim(handle)) {
                tlb.release(handle);
            }
        }
    }

    /**
     * {@code dma_need_sync()}: false only for a coherent device's direct mapping; a bounce, or any mapping of a
     * non-coherent device, needs its syncs.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_need_sync</a>
     */
    boolean needSync(long dmaAddress) {
        if (!coherent) {
            return true;
        }
        Swiotlb tlb = platform.swiotlb;
        long phys = DmaDirect.dmaToPhys(device.policy().dma, dmaAddress);
        return tlb != null && phys != Addresses.NONE && tlb.contains(phys);
    }

    /**
     * {@code dma_addressing_limited()}: the streaming limit falls short of the required mask, so some memory
     * the driver maps will bounce.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/mapping.c">dma_addressing_limited</a>
     */
    boolean addressingLimited() {
        return addressingLimited(device.policy());
    }

    /** {@code dma_get_max_seg_size()}: 64 KiB until the driver sets it, as {@code pci_device_add()} leaves it. */
    long maxSegSize() {
        return maxSegSize;
    }

    /**
     * {@code dma_set_max_seg_size()}.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_set_max_seg_size</a>
     */
    void setMaxSegSize(long size) {
        if (size < 1 || size > 0xffff_ffffL) {
            throw new IllegalArgumentException("failed to set the maximum segment size of " + device.name()
                    + ": it must be 1..0xffffffff (dma_parms->max_segment_size is an unsigned int), got " + size);
        }
        maxSegSize = size;
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
        if (offset < 0 || length < 1 || offset > m.size() - length) {
            throw new DmaUsageException("failed to " + what + " " + m + ": the range [" + offset + ", " + offset + " + "
                    + length + ") is not inside the mapping's " + m.size() + " bytes");
        }
        return m;
    }

    static void checkDirection(DmaDirection dir, String what) {
        if (dir == null || dir == DmaDirection.NONE) {
            throw new IllegalArgumentException("failed to " + what + ": the direction must be TO_DEVICE, FROM_DEVICE or "
                    + "BIDIRECTIONAL, got " + dir + " (DMA_NONE is refused, as the kernel's valid_dma_direction() does)");
        }
    }

    void checkSize(long size) {
        if (size < 1) {
            throw new IllegalArgumentException("failed to map a buffer for " + device.name()
                    + ": a mapping needs at least 1 byte, got " + size);
        }
    }
}
