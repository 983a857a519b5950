package io.dmadirect;

/**
 * A device's DMA addressing limit: the highest DMA address it can drive, always of the form
 * {@code 2^n - 1}. A 64-bit mask covers every address, so all comparisons here are unsigned.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/include/linux/dma-mapping.h">DMA_BIT_MASK(n)</a>
 */
public final class DmaMask implements Comparable<DmaMask> {
    private static final DmaMask[] BY_BITS = new DmaMask[65];

    static {
        for (int n = 1; n <= 64; n++) {
            BY_BITS[n] = new DmaMask(n);
        }
    }

    /** The kernel's default for a PCI device until its driver sets a mask (dev->coherent_dma_mask = DMA_BIT_MASK(32)). */
    public static final DmaMask BITS_32 = BY_BITS[32];
    /** All 64 bits: a device that reaches every address. */
    public static final DmaMask BITS_64 = BY_BITS[64];

    private final int bits;
    private final long value;

    private DmaMask(int bits) {
        this.bits = bits;
        this.value = bits == 64 ? -1L : (1L << bits) - 1;
    }

    /**
     * {@return {@code DMA_BIT_MASK(n)}: the mask of a device that drives {@code n} address bits}
     *
     * @param n the number of address bits, 1 to 64
     */
    public static DmaMask bits(int n) {
        if (n < 1 || n > 64) {
            throw new IllegalArgumentException("a DMA mask has 1 to 64 bits, got " + n);
        }
        return BY_BITS[n];
    }

    /**
     * {@return the mask whose value is {@code value}}
     *
     * @param value {@code 2^n - 1} for n in 1..64
     */
    public static DmaMask ofValue(long value) {
        if (value == 0 || (value & (value + 1)) != 0) {
            throw new IllegalArgumentException(
                    "a DMA mask must be 2^n - 1 for n in 1..64, got 0x" + Long.toHexString(value));
        }
        return BY_BITS[64 - Long.numberOfLeadingZeros(value)];
    }

    /** {@return the number of address bits, 1 to 64} */
    public int bits() {
        return bits;
    }

    /** {@return the highest address the mask allows, as an unsigned 64-bit value} */
    public long value() {
        return value;
    }

    /**
     * {@return whether the unsigned address {@code addr} lies within the mask}
     *
     * @param addr a DMA address, unsigned
     */
    public boolean covers(long addr) {
        return Long.compareUnsigned(addr, value) <= 0;
    }

    @Override
    public int compareTo(DmaMask other) {
        return Integer.compare(bits, other.bits);
    }

    @Override
    public String toString() {
        return bits + "-bit (0x" + Long.toHexString(value) + ")";
    }
}
