package io.dmadirect.direct;

import static io.dmadirect.Sizes.format;
import static io.dmadirect.Sizes.hex;

import io.dmadirect.Addresses;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaDirection;
import io.dmadirect.DmaMappingException;
import io.dmadirect.DmaUsageException;
import io.dmadirect.memory.RawMemory;
import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;

/**
 * The primitive streaming API of one device, as {@code include/linux/dma-mapping.h} has it: DMA addresses as
 * {@code long}, size, direction and attributes given again at unmap, and no object allocated per map+unmap.
 *
 * <p>The semantics are {@link StreamingMapper}'s, shared with the {@code DmaMapping} objects: the same direct
 * branch ({@code mapDirect}), bounce ({@code bounce}, {@code unbounce}) and copies. What this class adds is
 * finding a mapping again from its address: a direct mapping has no state (on a coherent device its unmap
 * does nothing, as in the kernel), and a bounced one is found in its slot ({@code swiotlb_find_pool()}), which
 * records the original, the size, the direction and the buffer. Primitive bounces are recorded with the
 * mapper as their owner, so the device's close releases those the driver left.
 */
final class PrimitiveStreaming {
    private final StreamingMapper mapper;
    private final DirectDevice device;
    private final DirectPlatform platform;
    private final boolean coherent;

    PrimitiveStreaming(StreamingMapper mapper) {
        this.mapper = mapper;
        this.device = mapper.device;
        this.platform = mapper.platform;
        this.coherent = mapper.coherent;
    }

    /**
     * {@code dma_map_single_attrs()} of {@code [offset, offset + length)} of {@code buffer} (absolute indices,
     * whatever its position): direct when the memory is pinned DMA memory the device reaches, else a bounce
     * whose slot holds the buffer until the unmap. A heap buffer always bounces.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_map_single_attrs</a>
     */
    long mapSingle(ByteBuffer buffer, int offset, int length, DmaDirection dir, int attrs) {
        StreamingMapper.checkDirection(dir, "map");
        java.util.Objects.checkFromIndexSize(offset, length, buffer.capacity());
        mapper.checkSize(length);
        if (!buffer.isDirect()) {
            return mapHeap(buffer, offset, length, dir, attrs);
        }
        StreamingMapper.checkWritable(buffer, dir);
        long cpu = RawMemory.addressOf(buffer) + offset;
        return mapRaw(buffer, cpu, platform.cpuToPhys(cpu, length), length, dir, attrs);
    }

    /** {@link #mapSingle(ByteBuffer, int, int, DmaDirection, int)} of a heap buffer: always a bounce of its array. */
    private long mapHeap(ByteBuffer buffer, int offset, int length, DmaDirection dir, int attrs) {
        byte[] array = StreamingMapper.heapArray(buffer);
        int ticket = device.enter("map a buffer");
        try {
            DevicePolicy p = device.policy();
            int arrayOffset = buffer.arrayOffset() + offset;
            return mapper.bounceDma(p, mapper.bounce(p, mapper, array, arrayOffset, arrayOffset, length, dir, attrs));
        } catch (DmaMappingException e) {
            throw mapper.warned(e, attrs);
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * {@code dma_map_phys()} of a raw CPU address, accepted only inside pinned memory the platform holds: an
     * address it cannot check could be unmapped memory, and a bounce copying from it would crash the JVM.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_map_single_attrs</a>
     */
    long mapSingle(long cpuAddress, long size, DmaDirection dir, int attrs) {
        StreamingMapper.checkDirection(dir, "map");
        mapper.checkSize(size);
        long phys = platform.cpuToPhys(cpuAddress, size);
        if (phys == Addresses.NONE) {
            throw new IllegalArgumentException("failed to map CPU address " + hex(cpuAddress) + " (" + format(size)
                    + ") for " + device.name() + ": it does not lie in one run of the pinned memory this platform "
                    + "holds, so it cannot be checked; map a ByteBuffer instead, or memory from allocCoherent");
        }
        return mapRaw(null, cpuAddress, phys, size, dir, attrs);
    }

    private long mapRaw(Object keep, long cpu, long phys, long size, DmaDirection dir, int attrs) {
        device.checkOpen("map a buffer");
        DevicePolicy p = device.policy();
        long dma = mapper.mapDirect(p, cpu, phys, size, dir, attrs);
        if (dma != Addresses.NONE) {
            return dma;
        }
        int ticket = device.enter("map a buffer");
        try {
            return mapper.bounceDma(p, mapper.bounce(p, mapper, keep, cpu, StreamingMapper.origAddr(phys, cpu), size, dir, attrs));
        } catch (DmaMappingException e) {
            throw mapper.warned(e, attrs);
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * {@code dma_unmap_single_attrs()}: a bounced mapping is found from its address ({@code swiotlb_find_pool()}),
     * copied back unless {@code SKIP_CPU_SYNC}, and its slots released; a direct mapping has no state, so its
     * unmap is cache maintenance on a non-coherent device and nothing on a coherent one.
     *
     * @param size the size mapped; a bounced mapping refuses a larger one, and copies back {@code size} bytes
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_unmap_single_attrs</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.h">dma_direct_unmap_phys</a>
     */
    void unmapSingle(long dmaAddress, long size, DmaDirection dir, int attrs, boolean quietWhenClosed) {
        StreamingMapper.checkDirection(dir, "unmap");
        mapper.checkSize(size);
        DevicePolicy p = device.policy();
        long phys = p.dmaToPhys(dmaAddress);
        Swiotlb tlb = platform.swiotlb;
        boolean skipSync = (attrs & StreamingMapper.SKIP_CPU_SYNC) != 0;
        long handle = bounceAt(tlb, phys);
        boolean inPool = handle != Swiotlb.OUTSIDE;
        if (!inPool && (coherent || skipSync)) {
            // dma_direct_unmap_phys() of a coherent device's direct mapping: nothing to do, no state to check.
            if (!quietWhenClosed) {
                device.checkOpen("unmap a DMA address");
            }
            return;
        }
        if (inPool && coherent && (skipSync || !StreamingMapper.copiesFromDevice(dir))) {
            releaseWithoutCopy(tlb, handle, phys, dmaAddress, size, dir, quietWhenClosed);
            return;
        }
        unmapEntered(tlb, handle, inPool, phys, dmaAddress, size, dir, skipSync, quietWhenClosed);
    }

    /**
     * The unmaps that touch memory (a copy back, cache maintenance), inside the gate. Out of line: the unmap
     * without a copy above stays small enough for the JIT to inline.
     */
    private void unmapEntered(Swiotlb tlb, long handle, boolean inPool, long phys, long dmaAddress, long size,
            DmaDirection dir, boolean skipSync, boolean quietWhenClosed) {
        int ticket = quietWhenClosed ? device.gate.tryEnter() : device.enter("unmap a DMA address");
        if (ticket < 0) {
            return; // the device's close released every bounce slot
        }
        try {
            if (!inPool) {
                mapper.archSyncForCpu(cpuOf(phys, dmaAddress, size, "unmap"), size, dir);
                return;
            }
            checkUnmap(tlb, handle, phys, dmaAddress, size, dir);
            if (!tlb.claim(handle)) {
                throw doubleUnmap(dmaAddress);
            }
            if (!coherent && !skipSync) {
                mapper.archSyncForCpu(tlb.cpuAddress(handle), size, dir);
            }
            StreamingMapper.unbounce(tlb, handle, size, dir, skipSync);
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * The unmap of a coherent device's bounce with nothing to copy back ({@code TO_DEVICE}, or
     * {@code SKIP_CPU_SYNC}): it touches no memory, only the pool's bookkeeping (Java arrays, which the pool's
     * close does not free), so, like the direct unmap, it takes a look at the gate instead of entering it. The
     * claim still decides against a racing unmap or the device's close, which releases what it claims: a claim
     * lost to the close is reported as the close, as the gate would have refused it.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_tbl_unmap_single</a>
     */
    private void releaseWithoutCopy(Swiotlb tlb, long handle, long phys, long dmaAddress, long size, DmaDirection dir,
            boolean quietWhenClosed) {
        if (device.isClosed()) {
            if (quietWhenClosed) {
                return; // the device's close released every bounce slot
            }
            device.checkOpen("unmap a DMA address");
        }
        checkUnmap(tlb, handle, phys, dmaAddress, size, dir);
        if (!tlb.claimAndRelease(handle)) {
            if (device.isClosed()) {
                if (quietWhenClosed) {
                    return;
                }
                device.checkOpen("unmap a DMA address");
            }
            throw doubleUnmap(dmaAddress);
        }
    }

    /** dma-debug's {@code check_unmap()} of a bounced address: live, this device's, the map's address, no larger. */
    private void checkUnmap(Swiotlb tlb, long handle, long phys, long dmaAddress, long size, DmaDirection dir) {
        if (handle != Swiotlb.NONE && tlb.isUnmapOf(handle, phys, mapper, dir.ordinal(), size)) {
            return; // the usual unmap: one look at the slot; anything else is named by the checks below
        }
        liveBounce(tlb, handle, dmaAddress, size, dir, "unmap");
        if (tlb.physAddress(handle) != phys) {
            throw new DmaUsageException("failed to unmap DMA " + hex(dmaAddress) + " on " + device.name()
                    + ": it lies inside the bounced mapping at DMA " + hex(mapper.bounceDma(device.policy(), handle))
                    + ", and an unmap takes the address the map returned");
        }
        if (size > tlb.mappedSize(handle)) {
            throw new DmaUsageException("failed to unmap DMA " + hex(dmaAddress) + " on " + device.name() + ": "
                    + format(size) + " is more than the " + format(tlb.mappedSize(handle)) + " mapped there");
        }
    }

    private DmaUsageException doubleUnmap(long dmaAddress) {
        return new DmaUsageException("failed to unmap DMA " + hex(dmaAddress) + " on " + device.name()
                + ": another thread unmapped it meanwhile (double unmap)");
    }

    /**
     * {@code dma_sync_single_for_cpu()} (and {@code dma_sync_single_range_for_cpu()}: any address inside a
     * mapping): CPU caches invalidated on a non-coherent device, then a bounce copied back.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_sync_single_for_cpu</a>
     */
    void syncSingleForCpu(long dmaAddress, long size, DmaDirection dir) {
        syncSingle(dmaAddress, size, dir, true);
    }

    /**
     * {@code dma_sync_single_for_device()} (and the range form): a bounce copied in, then CPU caches cleaned on a
     * non-coherent device.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">dma_sync_single_for_device</a>
     */
    void syncSingleForDevice(long dmaAddress, long size, DmaDirection dir) {
        syncSingle(dmaAddress, size, dir, false);
    }

    private void syncSingle(long dmaAddress, long size, DmaDirection dir, boolean forCpu) {
        String what = forCpu ? "sync for the CPU" : "sync for the device";
        StreamingMapper.checkDirection(dir, what);
        mapper.checkSize(size);
        DevicePolicy p = device.policy();
        long phys = p.dmaToPhys(dmaAddress);
        Swiotlb tlb = platform.swiotlb;
        long handle = bounceAt(tlb, phys);
        boolean inPool = handle != Swiotlb.OUTSIDE;
        if (!inPool && coherent) {
            device.checkOpen(what); // dma_direct_sync_single_*() of a coherent device: nothing to do
            return;
        }
        int ticket = device.enter(what);
        try {
            if (!inPool) {
                long cpu = cpuOf(phys, dmaAddress, size, what);
                if (forCpu) {
                    mapper.archSyncForCpu(cpu, size, dir);
                } else {
                    mapper.archSyncForDevice(cpu, size, dir);
                }
                return;
            }
            liveBounce(tlb, handle, dmaAddress, size, dir, what);
            long offset = phys - tlb.physAddress(handle);
            if (offset > tlb.mappedSize(handle) - size) {
                throw new DmaUsageException("failed to " + what + " DMA " + hex(dmaAddress) + " (" + format(size) + ") on "
                        + device.name() + ": it runs past the end of the bounced mapping at DMA "
                        + hex(mapper.bounceDma(p, handle)) + " of " + format(tlb.mappedSize(handle)));
            }
            long tlbCpu = tlb.cpuAddress(handle) + offset;
            if (forCpu) {
                if (!coherent) {
                    mapper.archSyncForCpu(tlbCpu, size, dir);
                }
                if (StreamingMapper.copiesFromDevice(dir)) {
                    StreamingMapper.copyBack(tlb, handle, offset, size);
                }
            } else {
                if (StreamingMapper.copiesToDevice(dir)) {
                    StreamingMapper.copyIn(tlb, handle, offset, size);
                }
                if (!coherent) {
                    mapper.archSyncForDevice(tlbCpu, size, dir);
                }
            }
        } finally {
            device.gate.exit(ticket);
        }
    }

    /**
     * The live bounced mapping of this device at {@code phys}, checked as dma-debug's {@code check_unmap()} and
     * {@code check_sync()} would (the slot recorded the direction, so the check costs nothing): a free slot, a
     * coherent buffer's, another device's or an object mapping's, or the wrong direction is a
     * {@link DmaUsageException}, never a copy.
     */
    private void liveBounce(Swiotlb tlb, long handle, long dmaAddress, long size, DmaDirection dir, String what) {
        if (handle == Swiotlb.NONE) {
            throw new DmaUsageException("failed to " + what + " DMA " + hex(dmaAddress) + " (" + format(size) + ") on "
                    + device.name() + ": no live mapping holds it (unmapped already, or never mapped: a double unmap, "
                    + "or an address from the bounce pool that is not a streaming mapping)");
        }
        Object owner = tlb.ownerOf(handle);
        if (owner != mapper) {
            throw new DmaUsageException("failed to " + what + " DMA " + hex(dmaAddress) + " on " + device.name() + ": "
                    + (owner instanceof StreamingMapping && ((StreamingMapping) owner).mapper == mapper
                            ? "it was mapped as " + owner + "; unmap and sync it through that object"
                            : "it was mapped by another device"));
        }
        DmaDirection mapped = StreamingMapper.DIRECTIONS[tlb.directionOf(handle)];
        if (mapped != DmaDirection.BIDIRECTIONAL && dir != mapped) {
            throw new DmaUsageException("failed to " + what + " DMA " + hex(dmaAddress) + " on " + device.name() + " as "
                    + dir + ": it was mapped " + mapped + " (only a BIDIRECTIONAL mapping may be synced in any "
                    + "direction; dma-debug's check_sync, check_unmap)");
        }
    }

    /**
     * The live bounce at {@code phys} ({@link Swiotlb#NONE} for a pool address no live mapping holds), or
     * {@link Swiotlb#OUTSIDE} when it is no bounce address: one scan of the pools. Read before the gate; a
     * mapping unmapped meanwhile fails its claim later, as the double unmap it is.
     */
    private static long bounceAt(Swiotlb tlb, long phys) {
        return tlb == null || phys == Addresses.NONE ? Swiotlb.OUTSIDE : tlb.mappedOrOutside(phys);
    }

    /** dma → phys → cpu for a non-coherent device's direct mapping: memory the platform does not hold is refused. */
    private long cpuOf(long phys, long dmaAddress, long size, String what) {
        long cpu = phys == Addresses.NONE ? Addresses.NONE : platform.physToCpu(phys, size);
        if (cpu == Addresses.NONE) {
            throw new DmaUsageException("failed to " + what + " DMA " + hex(dmaAddress) + " (" + format(size) + ") on "
                    + device.name() + ": no memory this platform holds lies there, so it was never mapped by it");
        }
        return cpu;
    }

    /**
     * {@code dma_map_sg_attrs()} into caller-owned arrays: each buffer's {@code [position, limit)} mapped as
     * {@link #mapSingle(ByteBuffer, int, int, DmaDirection, int)}, its address in {@code dmaAddressesOut[i]}, by
     * the loop the object API shares ({@link StreamingMapper#mapSegments}): segment limits, and nothing stays
     * mapped on a failure.
     *
     * @return {@code nents}: dma-direct merges no segments
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_map_sg</a>
     */
    int mapSg(ByteBuffer[] buffers, int nents, DmaDirection dir, int attrs, long[] dmaAddressesOut) {
        StreamingMapper.checkDirection(dir, "map a scatter list");
        checkEntries(nents, buffers.length, dmaAddressesOut.length, "map a scatter list");
        mapper.mapSegments(buffers, nents, dir, attrs, dmaAddressesOut, null);
        return nents;
    }

    /**
     * {@code dma_unmap_sg_attrs()}: every segment unmapped, even after one fails, so that nothing stays mapped;
     * the first failure is thrown after the rest.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_unmap_sg</a>
     */
    void unmapSg(long[] dmaAddresses, int[] lengths, int nents, DmaDirection dir, int attrs) {
        checkEntries(nents, dmaAddresses.length, lengths.length, "unmap a scatter list");
        RuntimeException first = null;
        for (int i = 0; i < nents; i++) {
            try {
                unmapSingle(dmaAddresses[i], lengths[i], dir, attrs, false);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * {@code dma_sync_sg_for_cpu()} / {@code dma_sync_sg_for_device()}: each segment as a single sync.
     *
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_sync_sg_for_cpu</a>
     * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/direct.c">dma_direct_sync_sg_for_device</a>
     */
    void syncSg(long[] dmaAddresses, int[] lengths, int nents, DmaDirection dir, boolean forCpu) {
        checkEntries(nents, dmaAddresses.length, lengths.length, forCpu ? "sync a scatter list for the CPU"
                : "sync a scatter list for the device");
        for (int i = 0; i < nents; i++) {
            syncSingle(dmaAddresses[i], lengths[i], dir, forCpu);
        }
    }

    private static void checkEntries(int nents, int a, int b, String what) {
        if (nents < 1 || nents > a || nents > b) {
            throw new IllegalArgumentException("failed to " + what + ": nents must be 1.." + Math.min(a, b)
                    + " (the arrays' lengths), got " + nents);
        }
    }
}
