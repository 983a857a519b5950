package io.dmadirect.drivers.nvme;

import static io.dmadirect.drivers.nvme.NvmeRegisters.PAGE;

import io.dmadirect.DmaDevice;
import io.dmadirect.DmaPool;
import io.dmadirect.DmaUsageException;
import java.nio.ByteBuffer;

/**
 * The PRP lists of one queue pair's commands, each taken from a {@code dma_pool} when its command needs one and
 * given back when the command's identifier is freed, as Linux's {@code nvme_pci_setup_prps()} and
 * {@code nvme_free_prps()} do. The two pools are the controller's (Linux: the per-device "prp list 256" and
 * "prp list page" pools): a list of up to 32 entries fits a 256-byte block, a longer one takes a 4 KiB page.
 * Both are aligned to their size, so no list crosses a page, which the specification forbids of a list that is not
 * chained.
 *
 * <p>Not thread-safe, like its queue pair; the pools themselves are, and are shared by all pairs.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/drivers/nvme/host/pci.c">nvme_pci_setup_prps</a>
 */
final class NvmePrpLists {
    /** Linux's {@code NVME_SMALL_POOL_SIZE}: a list of up to 32 entries fits this block. */
    static final int SMALL = 256;
    /** Entries of one list page; a longer transfer would need a chained list. */
    static final int PAGE_ENTRIES = PAGE / 8;

    private final DmaPool pages;
    private final DmaPool small;
    /** The list block of each cid in flight, by DMA address; 0 for a command without one. */
    private final long[] list;
    /** Which pool each cid's list came from. */
    private final boolean[] fromSmall;

    NvmePrpLists(DmaPool pages, DmaPool small, int depth) {
        this.pages = pages;
        this.small = small;
        this.list = new long[depth];
        this.fromSmall = new boolean[depth];
    }

    /** Creates the controller's two pools: Linux's {@code nvme_setup_prp_pools()}. */
    static DmaPool[] createPools(DmaDevice dma) {
        DmaPool page = dma.createPool("prp list page", PAGE, PAGE, 0);
        try {
            return new DmaPool[] {page, dma.createPool("prp list 256", SMALL, SMALL, 0)};
        } catch (RuntimeException e) {
            page.close();
            throw e;
        }
    }

    /**
     * PRP entry 2 for a transfer of {@code bytes} at {@code address}: none, the second page, or a PRP list, taken
     * from a pool and written, which stays with {@code cid} until {@link #release}.
     *
     * @throws IllegalArgumentException when the transfer needs a chained list (more than 512 entries)
     */
    long build(int cid, long address, long bytes) {
        long[] entries = NvmeQueuePair.prpPages(address, bytes);
        if (entries.length == 0) {
            return 0;
        }
        if (entries.length == 1) {
            return entries[0];
        }
        if (entries.length > PAGE_ENTRIES) {
            throw new IllegalArgumentException("a transfer of " + bytes + " bytes needs a chained PRP list");
        }
        boolean useSmall = entries.length * 8 <= SMALL;
        DmaPool pool = useSmall ? small : pages;
        long dma = pool.alloc(0);
        ByteBuffer view = pool.pageView(dma);
        int base = pool.pageOffset(dma);
        for (int i = 0; i < entries.length; i++) {
            view.putLong(base + 8 * i, entries[i]);
        }
        list[cid] = dma;
        fromSmall[cid] = useSmall;
        return dma;
    }

    /** Gives the list of {@code cid}, if it has one, back to its pool: the command completed or was never submitted. */
    void release(int cid) {
        long dma = list[cid];
        if (dma != 0) {
            list[cid] = 0;
            (fromSmall[cid] ? small : pages).free(dma);
        }
    }

    /** Gives back every list still held: at close, once the controller no longer reads them. */
    void releaseAll() {
        for (int cid = 0; cid < list.length; cid++) {
            try {
                release(cid);
            } catch (DmaUsageException closed) {
                // The device is closed already, and its close freed the pools' pages with it.
                list[cid] = 0;
            }
        }
    }

    /** {@return how many lists are held now} */
    int held() {
        int n = 0;
        for (long dma : list) {
            if (dma != 0) {
                n++;
            }
        }
        return n;
    }
}
