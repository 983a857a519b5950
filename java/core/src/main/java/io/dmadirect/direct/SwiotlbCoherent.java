package io.dmadirect.direct;

import io.dmadirect.swiotlb.Swiotlb;
import java.nio.ByteBuffer;

/**
 * The platform's bounce pool as the coherent allocator of restricted devices.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_alloc</a>
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/kernel/dma/swiotlb.c">swiotlb_free</a>
 */
final class SwiotlbCoherent implements SwiotlbAllocator {
    /** Marks a slot run as held by a coherent buffer, so that only such runs are freed here. */
    private static final Object COHERENT = new Object() {
        @Override
        public String toString() {
            return "swiotlb coherent allocation";
        }
    };

    private final Swiotlb tlb;

    SwiotlbCoherent(Swiotlb tlb) {
        this.tlb = tlb;
    }

    /** {@link #alloc(long, java.util.function.LongUnaryOperator)} where DMA addresses equal physical ones. */
    @Override
    public long alloc(long size) {
        return alloc(size, null);
    }

    /**
     * {@code swiotlb_alloc()}: slots with no original to keep bits of, the start aligned on the device's
     * address to {@code size} rounded up to a power-of-two number of pages, as the kernel asks
     * {@code swiotlb_find_slots()} with {@code alloc_align_mask = (PAGE_SIZE << get_order(size)) - 1}, and the
     * size not rounded to that alignment (which {@code swiotlb_tbl_map_single()} does, and this path is not).
     * No segment boundary: an allocation of at most one segment aligned to its own power-of-two size cannot
     * straddle the 4 GiB boundary a PCI device has.
     */
    @Override
    public long alloc(long size, java.util.function.LongUnaryOperator physToDma) {
        long handle = tlb.alloc(size, Swiotlb.NO_SEG_BOUNDARY, true, physToDma);
        if (handle != Swiotlb.NONE) {
            tlb.setOwner(handle, COHERENT);
        }
        return handle;
    }

    /** {@code swiotlb_free()}: false unless the handle is a live coherent run of this pool ({@code is_swiotlb_buffer}). */
    @Override
    public boolean free(long handle) {
        if (handle == Swiotlb.NONE || !isCoherent(tlb.ownerAt(tlb.physAddress(handle)))) {
            return false;
        }
        tlb.release(handle);
        return true;
    }

    private static boolean isCoherent(Object owner) {
        return owner == COHERENT || owner instanceof CoherentBuffer;
    }

    @Override
    public void setOwner(long handle, Object owner) {
        tlb.setOwner(handle, owner == null ? COHERENT : owner);
    }

    @Override
    public Object ownerAt(long physAddress) {
        Object owner = tlb.ownerAt(physAddress);
        return owner instanceof CoherentBuffer ? owner : null;
    }

    @Override
    public void forEachOwner(java.util.function.Consumer<Object> action) {
        tlb.forEachOwner(owner -> {
            if (owner instanceof CoherentBuffer) {
                action.accept(owner);
            }
        });
    }

    @Override
    public long physAddress(long handle) {
        return tlb.physAddress(handle);
    }

    @Override
    public long cpuAddress(long handle) {
        return tlb.cpuAddress(handle);
    }

    @Override
    public ByteBuffer cpuView(long handle, int length) {
        return tlb.cpuView(handle, length);
    }

    @Override
    public long lastPhysAddress() {
        return tlb.lastPhysAddress();
    }
}
