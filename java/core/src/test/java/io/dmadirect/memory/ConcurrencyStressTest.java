package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static io.dmadirect.Sizes.MiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.MemoryStats;
import io.dmadirect.Zone;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * Eight threads allocate and free mixed sizes, hand some handles to each other, and mark every page they
 * hold in a shared bitmap with CAS: a page that is already marked means it was handed out twice.
 */
class ConcurrencyStressTest {
    private static final long FRAME = 256 * KiB;
    private static final long[] RUN_BASES = {0x4000_0000L, 0x1_0000_0000L, 0x2_0000_0000L};
    private static final long[] RUN_SIZES = {2 * MiB, 4 * MiB, 4 * MiB};
    private static final int THREADS = 8;
    private static final int OPS = 200_000;
    private static final int MAX_LIVE = 48;

    private final AtomicLongArray pageBits = new AtomicLongArray(totalPages() / 64 + 1);
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final Queue<Long> handoff = new ConcurrentLinkedQueue<>();

    @Test
    void noPageIsEverHandedOutTwiceAndEverythingComesBack() throws InterruptedException {
        TestMemory memory = new TestMemory(FRAME);
        for (int i = 0; i < RUN_BASES.length; i++) {
            memory.run(RUN_BASES[i], RUN_SIZES[i]);
        }
        BuddyPageAllocator a = new BuddyPageAllocator(memory, ZoneLayout.DEFAULT,
                AllocatorConfig.DEFAULT.withArenasPerZone(2).withThreadCache(4, 16));
        MemoryStats start = a.stats();

        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long seed = 1234 + t;
            threads.add(new Thread(() -> {
                try {
                    work(a, new SplittableRandom(seed));
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "stress-" + t));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        Long h;
        while ((h = handoff.poll()) != null) {
            release(a, h);
        }
        assertTrue(errors.isEmpty(), () -> "errors: " + errors);
        a.drainThreadCaches();
        MemoryStats end = a.stats();
        for (Zone z : Zone.values()) {
            assertEquals(start.zone(z).free(), end.zone(z).free(), z + " free");
            assertEquals(0, end.zone(z).cached(), z + " cached");
        }
        for (int i = 0; i < pageBits.length(); i++) {
            assertEquals(0, pageBits.get(i), "no page still marked");
        }
    }

    private void work(BuddyPageAllocator a, SplittableRandom random) {
        long[] live = new long[MAX_LIVE];
        int n = 0;
        for (int op = 0; op < OPS && errors.isEmpty(); op++) {
            int dice = random.nextInt(100);
            if (n > 0 && (n == MAX_LIVE || dice < 45)) {
                int i = random.nextInt(n);
                long h = live[i];
                live[i] = live[--n];
                if (dice < 5) {
                    handoff.add(h); // another thread frees it
                } else {
                    release(a, h);
                }
            } else if (dice < 50) {
                Long other = handoff.poll();
                if (other != null) {
                    release(a, other);
                }
            } else {
                long h = allocate(a, random);
                if (h != PageAllocator.NO_PAGES) {
                    mark(a, h, true);
                    live[n++] = h;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            release(a, live[i]);
        }
    }

    private static long allocate(BuddyPageAllocator a, SplittableRandom random) {
        Zone zone = Zone.values()[1 + random.nextInt(2)];
        int kind = random.nextInt(100);
        if (kind < 2) {
            return a.allocContiguous(zone, FRAME + 1, PageAllocator.NO_LIMIT, false);
        }
        if (kind < 5) {
            return a.allocPages(zone, 4 * KiB, 0x1_FFFF_FFFFL, false); // the limit's slow path
        }
        long bytes = kind < 90 ? 1 + random.nextInt(64 * 1024) : 1 + random.nextInt((int) FRAME);
        return a.allocPages(zone, bytes, PageAllocator.NO_LIMIT, false);
    }

    private void release(BuddyPageAllocator a, long h) {
        mark(a, h, false); // before free: afterwards another thread may own the pages
        a.free(h);
    }

    private void mark(BuddyPageAllocator a, long h, boolean set) {
        long phys = a.physAddress(h);
        long pages = a.byteSize(h) / PageAllocator.PAGE_SIZE;
        int first = pageIndex(phys);
        for (int p = first; p < first + pages; p++) {
            int word = p >>> 6;
            long bit = 1L << (p & 63);
            while (true) {
                long old = pageBits.get(word);
                if (((old & bit) != 0) == set) {
                    throw new AssertionError((set ? "page handed out twice: " : "page not marked: ")
                            + Long.toHexString(phys + (long) (p - first) * PageAllocator.PAGE_SIZE));
                }
                if (pageBits.compareAndSet(word, old, old ^ bit)) {
                    break;
                }
            }
        }
    }

    private static int pageIndex(long phys) {
        int before = 0;
        for (int i = 0; i < RUN_BASES.length; i++) {
            if (phys >= RUN_BASES[i] && phys < RUN_BASES[i] + RUN_SIZES[i]) {
                return before + (int) ((phys - RUN_BASES[i]) / PageAllocator.PAGE_SIZE);
            }
            before += (int) (RUN_SIZES[i] / PageAllocator.PAGE_SIZE);
        }
        throw new AssertionError("address outside memory: " + Long.toHexString(phys));
    }

    private static int totalPages() {
        long bytes = 0;
        for (long size : RUN_SIZES) {
            bytes += size;
        }
        return (int) (bytes / PageAllocator.PAGE_SIZE);
    }
}
