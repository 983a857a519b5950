package io.dmadirect.spi;

import java.nio.ByteBuffer;

/**
 * Memory that is contiguous both in the address space the policy allocates in and in the CPU's view.
 *
 * <p>That address space is what {@code io.dmadirect.direct}, the page allocator and its zones call
 * "physical": the space of {@code phys_addr_t} in {@code kernel/dma/direct.c}. What it is depends on the
 * mode, so the base is named for the frames it numbers, not for either meaning:
 * <ul>
 *   <li>PA mode (hugepages read through pagemap) and the simulated platform: the CPU physical address;</li>
 *   <li>IOVA mode ({@code iova.IovaRun}): the IOVA at which the IOMMU maps the run.</li>
 * </ul>
 * It is not yet the DMA address: {@code direct} applies the device's dma-range offset and, for encrypted
 * memory, the encryption bit on top of it ({@code phys_to_dma()}).
 */
public interface MemoryRun {

    /**
     * The address of the first byte in the policy's "physical" space: the physical address in PA mode
     * and on the simulated platform, the IOVA in IOVA mode (see the class comment).
     */
    long frameBase();

    /** Bytes in the run: a whole number of frames. */
    long size();

    /** The CPU virtual address of the first byte, for raw copies and fills. */
    long cpuAddress();

    /** A buffer over {@code [offset, offset + length)} of the run, independent of any other view. */
    ByteBuffer cpuView(long offset, int length);
}
