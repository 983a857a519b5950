package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dmadirect.Zone;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What is written through one allocation's CPU view never shows in another live allocation. */
class DataIsolationTest {
    private static final long FRAME = 64 * KiB;

    @Test
    void eachAllocationKeepsItsOwnBytes() {
        BuddyPageAllocator a = new BuddyPageAllocator(
                new TestMemory(FRAME).run(0x1_0000_0000L, 8 * FRAME).run(0x2000_0000L, 4 * FRAME),
                ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);
        Random random = new Random(7);
        List<Long> handles = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            long h;
            while ((h = allocSome(a, random)) != PageAllocator.NO_PAGES) {
                handles.add(h);
                fill(a, h, (byte) handles.size());
            }
            for (int i = 0; i < handles.size(); i++) {
                check(a, handles.get(i), (byte) (i + 1));
            }
            // Free every other one, refill the holes, and check again.
            for (int i = handles.size() - 1; i >= 0; i -= 2) {
                a.free(handles.remove(i));
            }
            for (int i = 0; i < handles.size(); i++) {
                fill(a, handles.get(i), (byte) (i + 1));
            }
        }
    }

    private static long allocSome(BuddyPageAllocator a, Random random) {
        Zone zone = random.nextBoolean() ? Zone.NORMAL : Zone.DMA32;
        if (random.nextInt(10) == 0) {
            return a.allocContiguous(zone, 2 * FRAME, PageAllocator.NO_LIMIT, false);
        }
        return a.allocPages(zone, 1 + random.nextInt((int) FRAME), PageAllocator.NO_LIMIT, false);
    }

    private static void fill(BuddyPageAllocator a, long h, byte value) {
        ByteBuffer view = a.cpuView(h, (int) a.byteSize(h));
        while (view.hasRemaining()) {
            view.put(value);
        }
    }

    private static void check(BuddyPageAllocator a, long h, byte value) {
        ByteBuffer view = a.cpuView(h, (int) a.byteSize(h));
        for (int i = 0; i < view.capacity(); i++) {
            assertEquals(value, view.get(i), "byte " + i + " of handle " + Long.toHexString(h));
        }
    }
}
