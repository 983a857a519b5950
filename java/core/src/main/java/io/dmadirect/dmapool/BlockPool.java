package io.dmadirect.dmapool;

import io.dmadirect.DmaAllocationException;
import io.dmadirect.DmaAttr;
import io.dmadirect.DmaBuffer;
import io.dmadirect.DmaDevice;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import io.dmadirect.Sizes;
import io.dmadirect.memory.RawMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The kernel's {@code mm/dmapool.c} over a device's public coherent allocation: pages of
 * {@link PoolGeometry#allocation()} bytes from {@link DmaDevice#allocCoherent}, carved into blocks by
 * {@link PoolGeometry}.
 *
 * <h2>Notation and invariants</h2>
 * A block is named by its id, {@code page * blocksPerPage + index}, where {@code page} counts the pool's
 * pages in the order they were added and {@code index} the block's place in {@link PoolGeometry}'s carving.
 * Its DMA address is the page's plus {@link PoolGeometry#offsetOf}. Under {@link #lock}:
 * <ul>
 * <li>a block is either allocated (its bit in {@link #used} set) or on the free stack
 *     ({@code freeStack[0, freeTop)}), never both, never neither;</li>
 * <li>{@code active} is the number of bits set; {@code freeTop + active} is every block of every page.</li>
 * </ul>
 * The kernel threads its free list through the free blocks themselves, so a device that writes into a freed
 * block corrupts the allocator; here the list lives in Java arrays, and the bit set makes "is this a live
 * block" a constant-time question, so a bad or double free is refused with an exception and changes nothing
 * (the kernel's {@code pool_block_err()} finds these only with debug on, by walking the free list). The stack is
 * LIFO, as the kernel's list: the block freed last is reused first, while its lines are still in the cache.
 *
 * <h2>Lock and close</h2>
 * One monitor per pool, the kernel's spinlock; it is held only for bookkeeping and for zeroing or poisoning the
 * block (bytes of the block's own size), never across the page allocation, which may block: as in
 * {@code dma_pool_alloc()}, the lock is dropped to get a page and taken again to add it. Zeroing under the lock
 * is what makes close safe: the device's close marks the pool closed under this lock ({@link #deviceClosed()})
 * before it frees the pool's pages, so no write into a page can follow the free. The page views are read
 * without the lock from an immutable {@link PoolPages}.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">dma_pool_alloc</a>
 */
public final class BlockPool implements DmaPool {
    private static final System.Logger LOG = System.getLogger("io.dmadirect.dmapool");
    /** {@code POOL_POISON_FREED}: a free block's bytes with the debug checks on. */
    static final byte POISON_FREED = (byte) 0xa7;
    /** {@code POOL_POISON_ALLOCATED}: a new block's bytes with the debug checks on, unless zeroed. */
    static final byte POISON_ALLOCATED = (byte) 0xa9;
    /** The system property that turns the debug checks on, as {@code CONFIG_SLUB_DEBUG_ON} does in the kernel. */
    public static final String DEBUG_PROPERTY = "io.dmadirect.dmapool.debug";

    private static final int ATOMIC = DmaAttr.flags(DmaAttr.ATOMIC);
    private static final DmaAttr[] PAGE_ATTRS = {};
    private static final DmaAttr[] ATOMIC_PAGE_ATTRS = {DmaAttr.ATOMIC};
    private static final int OPEN = 0;
    private static final int DESTROYED = 1;
    private static final int DEVICE_CLOSED = 2;

    private final DmaDevice device;
    private final String name;
    private final PoolGeometry geometry;
    private final int blocksPerPage;
    private final long pageAlign;
    private final boolean debug;
    private final Consumer<BlockPool> onDestroy;
    private final Object lock = new Object();

    private volatile int state = OPEN;
    private volatile PoolPages pages = PoolPages.NONE;
    /** Under {@link #lock}: one bit per block id, set while the block is allocated. */
    private long[] used = new long[0];
    /** Under {@link #lock}: ids of the free blocks, the next to hand out on top. */
    private int[] freeStack = new int[0];
    private int freeTop;
    private int active;

    /**
     * @param device    the device whose coherent memory the pool carves
     * @param name      for messages
     * @param geometry  the pool's shape ({@link PoolGeometry#of})
     * @param debug     the kernel's {@code DMAPOOL_DEBUG}: poison free blocks and check them on allocation
     * @param onDestroy told once the pool is destroyed, so that its device forgets it
     */
    public BlockPool(DmaDevice device, String name, PoolGeometry geometry, boolean debug, Consumer<BlockPool> onDestroy) {
        this.device = Objects.requireNonNull(device, "device");
        this.name = Objects.requireNonNull(name, "name");
        this.geometry = Objects.requireNonNull(geometry, "geometry");
        this.blocksPerPage = geometry.blocksPerPage();
        this.debug = debug;
        this.onDestroy = Objects.requireNonNull(onDestroy, "onDestroy");
        // Blocks keep their alignment and boundary only if the page starts on the boundary (a power of two),
        // as dma_alloc_coherent()'s order-aligned pages do in the kernel; a page bigger than 4 KiB that is not a
        // power of two holds one block, aligned to the block size's own alignment.
        int b = geometry.boundary();
        this.pageAlign = Integer.bitCount(b) == 1 ? b : Integer.lowestOneBit(geometry.size());
    }

    /** {@return whether {@link #DEBUG_PROPERTY} asks for the debug checks} */
    public static boolean debugFromSystem() {
        return Boolean.getBoolean(DEBUG_PROPERTY);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DmaDevice device() {
        return device;
    }

    @Override
    public long blockSize() {
        return geometry.size();
    }

    @Override
    public long allocation() {
        return geometry.allocation();
    }

    @Override
    public long boundary() {
        return geometry.boundary();
    }

    @Override
    public long alloc(int attrs) {
        return alloc(attrs, false);
    }

    @Override
    public long zalloc(int attrs) {
        return alloc(attrs, true);
    }

    /** {@code dma_pool_alloc()}: pop a free block, or add a page and pop its first. */
    private long alloc(int attrs, boolean zero) {
        if ((attrs & ~ATOMIC) != 0) {
            throw new IllegalArgumentException("DMA pool " + name + ": an allocation takes DmaAttr.ATOMIC or no "
                    + "attribute, not the flags " + Integer.toBinaryString(attrs));
        }
        synchronized (lock) {
            checkOpen("allocate a block");
            if (freeTop > 0) {
                return take(zero);
            }
        }
        return grow(attrs, zero);
    }

    /** {@code pool_block_pop()} and the block's preparation; under the lock, with a free block. */
    private long take(boolean zero) {
        int id = freeStack[--freeTop];
        used[id >>> 6] |= 1L << id;
        active++;
        PoolPages p = pages;
        int page = id / blocksPerPage;
        int offset = geometry.offsetOf(id - page * blocksPerPage);
        long dma = p.dma(page) + offset;
        if (debug) {
            checkPoison(p.view(page), offset, dma);
        }
        if (zero) {
            fill(p, page, offset, geometry.size(), (byte) 0);
        } else if (debug) {
            fill(p, page, offset, geometry.size(), POISON_ALLOCATED);
        }
        return dma;
    }

    /**
     * {@code pool_alloc_page()} without the lock, then {@code pool_initialise_page()} with it. A page gotten
     * while the pool or its device closed is given back (its device's close freed it already, if that closed).
     */
    private long grow(int attrs, boolean zero) {
        DmaBuffer page = device.allocCoherent(geometry.allocation(), (attrs & ATOMIC) != 0 ? ATOMIC_PAGE_ATTRS : PAGE_ATTRS);
        boolean kept = false;
        try {
            long pageDma = page.dmaAddress();
            if ((pageDma & (pageAlign - 1)) != 0) {
                throw new DmaAllocationException("failed to add a page to DMA pool " + name + " of "
                        + device.name() + ": the coherent allocation at " + Sizes.hex(pageDma) + " is not aligned to "
                        + pageAlign + " bytes, so its blocks would cross the pool's boundary");
            }
            ByteBuffer view = page.cpuView().order(ByteOrder.LITTLE_ENDIAN);
            if (debug) {
                fill(view, 0, geometry.allocation(), POISON_FREED);
            }
            synchronized (lock) {
                checkOpen("allocate a block");
                addPage(page, view, pageDma);
                kept = true;
                return take(zero);
            }
        } finally {
            if (!kept) {
                page.close();
            }
        }
    }

    /** Under the lock: the page's blocks go on top of the free stack, its first block on top, as the kernel links them. */
    private void addPage(DmaBuffer page, ByteBuffer view, long pageDma) {
        PoolPages p = pages.with(page, view, pageDma, geometry.allocation());
        int total = p.count * blocksPerPage;
        used = Arrays.copyOf(used, (total + 63) >>> 6);
        freeStack = Arrays.copyOf(freeStack, total);
        int first = (p.count - 1) * blocksPerPage;
        for (int i = blocksPerPage - 1; i >= 0; i--) {
            freeStack[freeTop++] = first + i;
        }
        pages = p;
    }

    /** {@code dma_pool_free()}, with {@code pool_block_err()}'s checks always on and in constant time. */
    @Override
    public void free(long dmaAddress) {
        synchronized (lock) {
            checkOpen("free a block");
            PoolPages p = pages;
            int page = p.pageOf(dmaAddress, geometry.allocation());
            if (page < 0) {
                throw badFree(dmaAddress, "it lies in none of the pool's " + p.count + " pages (bad dma)");
            }
            long offset = dmaAddress - p.dma(page);
            int index = geometry.indexAt(offset);
            if (index < 0) {
                throw badFree(dmaAddress, "it lies inside page " + Sizes.hex(p.dma(page)) + " of the pool but is not "
                        + "the start of a block (" + geometry + ")");
            }
            int id = page * blocksPerPage + index;
            long bit = 1L << id;
            if ((used[id >>> 6] & bit) == 0) {
                throw badFree(dmaAddress, "the block is already free (double free)");
            }
            used[id >>> 6] &= ~bit;
            active--;
            freeStack[freeTop++] = id;
            if (debug) {
                fill(p, page, (int) offset, geometry.size(), POISON_FREED);
            }
        }
    }

    private DmaUsageException badFree(long dmaAddress, String why) {
        return new DmaUsageException("failed to free DMA address " + Sizes.hex(dmaAddress) + " to DMA pool " + name
                + " of " + device.name() + ": " + why + "; nothing was changed");
    }

    @Override
    public ByteBuffer pageView(long dmaAddress) {
        PoolPages p = pages;
        return p.view(livePage(p, dmaAddress));
    }

    @Override
    public int pageOffset(long dmaAddress) {
        PoolPages p = pages;
        return (int) (dmaAddress - p.dma(livePage(p, dmaAddress)));
    }

    private int livePage(PoolPages p, long dmaAddress) {
        checkOpen("give a CPU view");
        int page = p.pageOf(dmaAddress, geometry.allocation());
        if (page < 0) {
            throw new DmaUsageException("failed to give a CPU view of DMA address " + Sizes.hex(dmaAddress)
                    + " in DMA pool " + name + " of " + device.name() + ": it lies in none of the pool's pages");
        }
        return page;
    }

    @Override
    public Block allocBlock(DmaAttr... attrs) {
        return new PoolBlock(this, alloc(DmaAttr.flags(attrs), false));
    }

    @Override
    public Block zallocBlock(DmaAttr... attrs) {
        return new PoolBlock(this, alloc(DmaAttr.flags(attrs), true));
    }

    @Override
    public int activeBlocks() {
        synchronized (lock) {
            return active;
        }
    }

    @Override
    public int totalBlocks() {
        return pages.count * blocksPerPage;
    }

    @Override
    public int pageCount() {
        return pages.count;
    }

    /** Whether the pool's device (or platform) is closed: then the blocks are gone with it. */
    boolean deviceIsClosed() {
        return state == DEVICE_CLOSED;
    }

    /**
     * {@code dma_pool_destroy()}: refused while blocks are allocated (see {@link DmaPool}); otherwise the
     * pages are given back to the device outside the lock.
     */
    @Override
    public void close() {
        PoolPages toFree;
        synchronized (lock) {
            if (state != OPEN) {
                return;
            }
            if (active > 0) {
                throw new DmaUsageException("failed to destroy DMA pool " + name + " of " + device.name() + ": " + active
                        + " of its blocks are still allocated (dma_pool_destroy: busy). Free them first; nothing was "
                        + "freed and the pool stays usable (closing the device frees its pages in any case)");
            }
            state = DESTROYED;
            toFree = pages;
            pages = PoolPages.NONE;
            used = new long[0];
            freeStack = new int[0];
            freeTop = 0;
        }
        onDestroy.accept(this);
        for (int i = 0; i < toFree.count; i++) {
            toFree.buffer(i).close(); // a quiet no-op if the device closed meanwhile: its close freed the page
        }
    }

    /**
     * Called by the device's close once its operations have drained and before it frees its memory, this pool's
     * pages among it: marks the pool closed under the lock, so no allocation, free or zeroing runs afterwards.
     */
    public void deviceClosed() {
        synchronized (lock) {
            state = DEVICE_CLOSED;
            pages = PoolPages.NONE;
            used = new long[0];
            freeStack = new int[0];
            freeTop = 0;
            active = 0;
        }
    }

    private void checkOpen(String what) {
        int s = state;
        if (s != OPEN) {
            throw new DmaUsageException("failed to " + what + " in DMA pool " + name + ": "
                    + (s == DESTROYED ? "the pool is closed (destroyed)" : "device " + device.name() + " is closed"));
        }
    }

    /** {@code pool_check_block()}: a block handed out must still hold the poison its free left. */
    private void checkPoison(ByteBuffer view, int offset, long dma) {
        for (int i = 0; i < geometry.size(); i++) {
            if (view.get(offset + i) != POISON_FREED) {
                LOG.log(System.Logger.Level.ERROR, "dmapool: dma_pool_alloc " + name + ", " + Sizes.hex(dma)
                        + " (corrupted): byte " + i + " of the free block was overwritten (0x"
                        + Integer.toHexString(view.get(offset + i) & 0xff) + "); something wrote to it after it was freed");
                return;
            }
        }
    }

    /**
     * Fills {@code length} bytes of a page from {@code offset}: through its CPU address when its view is direct
     * (always, on every platform; one {@code memset} instead of a bounds check per word), else through the view.
     * Only under the lock with the pool open, so never on a page the device's close has freed.
     */
    private static void fill(PoolPages p, int page, int offset, int length, byte value) {
        long cpu = p.cpu(page);
        if (cpu != 0) {
            RawMemory.fill(cpu + offset, length, value);
        } else {
            fill(p.view(page), offset, length, value);
        }
    }

    /** Fills {@code length} bytes of {@code view} from {@code offset}, eight at a time. */
    private static void fill(ByteBuffer view, int offset, int length, byte value) {
        long word = (value & 0xffL) * 0x0101010101010101L;
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            view.putLong(offset + i, word);
        }
        for (; i < length; i++) {
            view.put(offset + i, value);
        }
    }

    @Override
    public String toString() {
        return "DmaPool[" + name + " of " + device.name() + ", " + geometry + "]";
    }
}
