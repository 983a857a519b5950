package io.dmadirect.agent;

import io.dmadirect.DmaPool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Mode {@code debug} for {@code DmaPool} blocks, the kernel's {@code DMAPOOL_DEBUG} checks with the call site
 * and stack added: a free of an address the pool did not hand out ("bad dma"), a block freed twice ("already
 * free"), a pool destroyed with blocks allocated ("busy"), and blocks still allocated when the device closes.
 *
 * @see <a href="https://elixir.bootlin.com/linux/latest/source/mm/dmapool.c">dma_pool_free</a>
 */
final class PoolChecks {
    private static final int GONE = 256;

    /** One block the driver holds. */
    record Block(long dma, int site, StackTraceElement[] stack) {
        String allocSite() {
            return site != 0 ? CallSites.text(site) : Stacks.siteOf(stack);
        }
    }

    /** Where the driver created a pool ({@code dma_pool_create}): its pages are attributed to this site. */
    record Creation(Object pool, String site, StackTraceElement[] stack) {
        String name() {
            return PoolChecks.name(pool);
        }
    }

    /** A pool's blocks, and the addresses freed last (to tell a double free from a bad address). */
    private static final class PoolEntries {
        final Map<Long, Block> live = new LinkedHashMap<>();
        final Map<Long, Integer> freed = Bounded.map(GONE);
    }

    private final Findings findings;
    private final boolean trackedFromStart;
    private final StreamingChecks streaming;
    private final ConcurrentHashMap<Object, PoolEntries> pools = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Object, Creation> created = new ConcurrentHashMap<>();

    PoolChecks(Findings findings, boolean trackedFromStart, StreamingChecks streaming) {
        this.findings = findings;
        this.trackedFromStart = trackedFromStart;
        this.streaming = streaming;
    }

    private PoolEntries of(Object pool) {
        return pools.computeIfAbsent(pool, p -> new PoolEntries());
    }

    /** {@code dma_pool_create()}: remembers where, for the pool's pages. */
    void created(Object pool, int site) {
        StackTraceElement[] stack = streaming.stackOf(site);
        created.put(pool, new Creation(pool, site != 0 ? CallSites.text(site) : Stacks.siteOf(stack), stack));
    }

    /** The creation of the pool whose block allocation is allocating a page. */
    Creation creation(Object pool) {
        return created.computeIfAbsent(pool, p -> new Creation(p, "createPool before the agent attached",
                Stacks.capture()));
    }

    void allocated(Object pool, long dma, int site) {
        PoolEntries p = of(pool);
        synchronized (p) {
            p.live.put(dma, new Block(dma, site, streaming.stackOf(site)));
            p.freed.remove(dma);
        }
    }

    /** {@code dma_pool_free()}: a block the pool handed out and not yet freed, or a finding. */
    void beforeFree(Object pool, long dma, int site) {
        PoolEntries p = of(pool);
        Block block;
        Integer freedAt;
        synchronized (p) {
            block = p.live.remove(dma);
            freedAt = block == null ? p.freed.get(dma) : null;
            if (block != null) {
                p.freed.put(dma, site);
            }
        }
        if (block != null) {
            return;
        }
        if (freedAt != null) {
            report("pool-double-free", "dma_pool_free " + name(pool) + ", dma 0x" + Long.toHexString(dma)
                    + " already free (double free)\n  first freed at: " + CallSites.text(freedAt), site,
                    "free each block once; forget its address after the free");
        } else if (trackedFromStart) {
            report("pool-free-not-allocated", "dma_pool_free " + name(pool) + ", 0x" + Long.toHexString(dma)
                    + " (bad dma): the pool did not hand out this address", site,
                    "free only addresses that alloc() or zalloc() of the same pool returned");
        }
    }

    /** {@code dma_pool_destroy()} while blocks are allocated: "busy". */
    void beforeDestroy(Object pool, int site) {
        PoolEntries p = pools.get(pool);
        int busy;
        synchronized (p == null ? this : p) {
            busy = p == null ? 0 : p.live.size();
        }
        if (busy > 0) {
            report("pool-destroy-busy", "dma_pool_destroy " + name(pool) + ", busy: " + busy + " block(s) still"
                    + " allocated", site, "free every block of the pool before destroying it");
        } else {
            pools.remove(pool);
            created.remove(pool);
        }
    }

    /** The device closes: blocks of its pools still allocated are leaks. */
    void beforeClose(Object device, int site) {
        List<Object> closing = new ArrayList<>();
        for (Object pool : pools.keySet()) {
            if (pool instanceof DmaPool && ((DmaPool) pool).device() == device) {
                closing.add(pool);
            }
        }
        created.keySet().removeIf(pool -> pool instanceof DmaPool && ((DmaPool) pool).device() == device);
        for (Object pool : closing) {
            PoolEntries p = pools.remove(pool);
            List<Block> leaked;
            synchronized (p) {
                leaked = new ArrayList<>(p.live.values());
            }
            for (int i = 0; i < leaked.size(); i++) {
                Block b = leaked.get(i);
                findings.report("leak-at-close", "device driver has pending DMA pool blocks while released from"
                        + " device [pool=" + name(pool) + "] [count=" + leaked.size() + "]\n  leaked entry " + (i + 1)
                        + " of " + leaked.size() + ": [dma=0x" + Long.toHexString(b.dma()) + "]\n  released at: "
                        + DebugChecks.siteText(site), b.allocSite(), b.stack(),
                        "free every block (dma_pool_free) and destroy the pool on the driver's remove path");
            }
        }
    }

    private void report(String check, String message, int site, String remedy) {
        findings.report(check, message, DebugChecks.siteText(site), Stacks.capture(), remedy);
    }

    static String name(Object pool) {
        return pool instanceof DmaPool ? ((DmaPool) pool).name() : String.valueOf(pool);
    }
}
