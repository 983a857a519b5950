package io.dmadirect;

/**
 * The values that stand for "no address", one per kind of address, so that an absent address is never
 * an unnamed literal and never a value some memory could really have.
 *
 * <p>Physical addresses, IOVAs and DMA addresses use {@link #NONE}, all ones. It cannot be 0: 0 is a
 * valid physical address (the simulated platform's memory may start there, as real RAM does), and the
 * IOVA and DMA address of such memory can be 0 too. All ones is no frame's address, since no frame starts
 * at the last byte of the 64-bit space. It is the value of the kernel's {@code PHYS_ADDR_MAX} (what
 * {@code dma_to_phys()} gives for an address outside every dma-range) and {@code DMA_MAPPING_ERROR}.
 *
 * <p>CPU virtual addresses use {@link #NO_CPU_ADDRESS}, 0: no userspace mapping starts at 0
 * ({@code vm.mmap_min_addr}), and the streaming path has always used 0 for "no CPU address" (memory in a
 * Java array, a mapping that did not bounce), so the value is kept and only named.
 */
public final class Addresses {
    /** No physical address, IOVA or DMA address: all ones. Compare with {@code ==}. */
    public static final long NONE = -1L;
    /** No CPU virtual address: 0. */
    public static final long NO_CPU_ADDRESS = 0L;

    private Addresses() {
    }
}
