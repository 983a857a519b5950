package io.dmadirect.dmapool;

import io.dmadirect.DmaBuffer;
import io.dmadirect.memory.RawMemory;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The pages of a pool at one moment, never changed once made: adding a page makes a new one (copy on write),
 * so a reader holding it needs no lock. Pages are only added (the kernel frees them only when the pool is
 * destroyed), and a pool rarely holds more than a few dozen, so the copy is cheap next to the coherent
 * allocation that comes with it.
 *
 * <p>Finding the page of a DMA address is the kernel's {@code pool_find_page()}, there a walk of the page
 * list; here a constant-time probe of an open-addressed table keyed by the 4 KiB frame number of the
 * address, each page entered under every frame it covers (no two coherent allocations share a frame).
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">pool_find_page</a>
 */
final class PoolPages {
    static final int FRAME_SHIFT = 12;
    static final PoolPages NONE = new PoolPages(0, new long[0], new long[0], new ByteBuffer[0], new DmaBuffer[0],
            new long[8], new int[8]);

    final int count;
    private final long[] dma;
    /** The CPU address of each page's first byte, for filling blocks without a bounds check per word; 0 if none. */
    private final long[] cpu;
    private final ByteBuffer[] views;
    private final DmaBuffer[] buffers;
    /** Frame number + 1 (0 marks an empty slot); a power-of-two length, at most half full. */
    private final long[] frameKeys;
    private final int[] framePages;

    private PoolPages(int count, long[] dma, long[] cpu, ByteBuffer[] views, DmaBuffer[] buffers, long[] frameKeys,
            int[] framePages) {
        this.count = count;
        this.dma = dma;
        this.cpu = cpu;
        this.views = views;
        this.buffers = buffers;
        this.frameKeys = frameKeys;
        this.framePages = framePages;
    }

    /** {@return these pages and one more, covering {@code allocation} bytes from {@code pageDma}} */
    PoolPages with(DmaBuffer buffer, ByteBuffer view, long pageDma, int allocation) {
        int n = count + 1;
        long[] d = Arrays.copyOf(dma, n);
        long[] c = Arrays.copyOf(cpu, n);
        ByteBuffer[] v = Arrays.copyOf(views, n);
        DmaBuffer[] b = Arrays.copyOf(buffers, n);
        d[count] = pageDma;
        c[count] = view.isDirect() ? RawMemory.addressOf(view) : 0;
        v[count] = view;
        b[count] = buffer;
        long frames = 0;
        for (int p = 0; p < n; p++) {
            frames += framesOf(d[p], allocation);
        }
        int capacity = Integer.highestOneBit((int) Math.max(8, frames * 2 - 1)) << 1;
        long[] keys = new long[capacity];
        int[] pages = new int[capacity];
        for (int p = 0; p < n; p++) {
            long first = d[p] >>> FRAME_SHIFT;
            long last = (d[p] + allocation - 1) >>> FRAME_SHIFT;
            for (long f = first; f <= last; f++) {
                int i = slot(f + 1, capacity - 1);
                while (keys[i] != 0) {
                    i = (i + 1) & (capacity - 1);
                }
                keys[i] = f + 1;
                pages[i] = p;
            }
        }
        return new PoolPages(n, d, c, v, b, keys, pages);
    }

    private static long framesOf(long pageDma, int allocation) {
        return ((pageDma + allocation - 1) >>> FRAME_SHIFT) - (pageDma >>> FRAME_SHIFT) + 1;
    }

    private static int slot(long key, int mask) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }

    /**
     * {@return the page holding {@code dmaAddress}, or -1 when none of these does}
     *
     * @param allocation the pool's page size, to tell an address past a page's end in its last frame
     */
    int pageOf(long dmaAddress, int allocation) {
        long key = (dmaAddress >>> FRAME_SHIFT) + 1;
        int mask = frameKeys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = frameKeys[i];
            if (k == key) {
                int page = framePages[i];
                long offset = dmaAddress - dma[page];
                return offset >= 0 && offset < allocation ? page : -1;
            }
            if (k == 0) {
                return -1;
            }
        }
    }

    long dma(int page) {
        return dma[page];
    }

    long cpu(int page) {
        return cpu[page];
    }

    ByteBuffer view(int page) {
        return views[page];
    }

    DmaBuffer buffer(int page) {
        return buffers[page];
    }
}
