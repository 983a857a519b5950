package io.dmadirect.direct;

/**
 * The hash code of buffers and mappings: derived from the DMA address, while equality stays identity.
 *
 * <p>Tools keep maps of live buffers and mappings, as the kernel's dma-debug keeps a hash of its entries
 * by DMA address. The identity hash would cost such a map a call into the VM the first time each new
 * object is hashed (about 20 ns, as much as a whole map/unmap pair); this costs one multiplication.
 * Two live objects may share an address (the same memory mapped twice): they then share a bucket, and
 * identity tells them apart.
 */
final class AddressHash {
    private AddressHash() {
    }

    /** The high half of a Fibonacci hash, so that page-aligned addresses still spread over every bit. */
    static int of(long dmaAddress) {
        return (int) ((dmaAddress * 0x9E3779B97F4A7C15L) >>> 32);
    }
}
