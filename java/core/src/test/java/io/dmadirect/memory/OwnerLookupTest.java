package io.dmadirect.memory;

import io.dmadirect.spi.ZoneLayout;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.dmadirect.Zone;
import org.junit.jupiter.api.Test;

/** ownerAt(): the reverse lookup behind dma_direct_to_page(). */
class OwnerLookupTest {
    private static final long FRAME = 64 * KiB;
    private static final long RUN_A = 0x1_0000_0000L;
    private static final long RUN_B = 0x1_8000_0000L;

    private final BuddyPageAllocator a = new BuddyPageAllocator(
            new TestMemory(FRAME).run(RUN_B, 4 * FRAME).run(RUN_A, 4 * FRAME), ZoneLayout.DEFAULT,
            AllocatorConfig.DEFAULT);

    private void assertOwnedThroughout(long handle, Object owner) {
        long phys = a.physAddress(handle);
        long size = a.byteSize(handle);
        assertSame(owner, a.ownerAt(phys), "first byte");
        assertSame(owner, a.ownerAt(phys + size / 2), "middle");
        assertSame(owner, a.ownerAt(phys + size - 1), "last byte");
    }

    @Test
    void pagesAtStartMiddleAndLastByte() {
        Object[] owners = new Object[5];
        long[] handles = new long[5];
        for (int i = 0; i < handles.length; i++) {
            handles[i] = a.allocPages(Zone.NORMAL, (4 * KiB) << i, PageAllocator.NO_LIMIT, false);
            owners[i] = "buffer " + i;
            a.setOwner(handles[i], owners[i]);
        }
        for (int i = 0; i < handles.length; i++) {
            assertOwnedThroughout(handles[i], owners[i]);
        }
        // Freed memory has no owner, even while it waits in the thread cache.
        long gone = handles[2];
        long phys = a.physAddress(gone);
        a.free(gone);
        assertNull(a.ownerAt(phys));
        assertNull(a.ownerAt(phys + a.byteSize(gone) - 1));
        a.drainThreadCaches();
        assertNull(a.ownerAt(phys));
        // Detaching works too.
        a.setOwner(handles[0], null);
        assertNull(a.ownerAt(a.physAddress(handles[0])));
    }

    @Test
    void contiguousAllocationsInBothRuns() {
        long one = a.allocContiguous(Zone.NORMAL, 3 * FRAME, PageAllocator.NO_LIMIT, false);
        long two = a.allocContiguous(Zone.NORMAL, 3 * FRAME, PageAllocator.NO_LIMIT, false);
        a.setOwner(one, "one");
        a.setOwner(two, "two");
        assertOwnedThroughout(one, "one");
        assertOwnedThroughout(two, "two");
        long after = a.physAddress(one) + a.byteSize(one);
        assertNull(a.ownerAt(after), "the free frame after the run");
        a.free(one);
        assertNull(a.ownerAt(a.physAddress(one) + FRAME));
        assertOwnedThroughout(two, "two");
    }

    @Test
    void addressesOutsideMemoryHaveNoOwner() {
        long h = a.allocPages(Zone.NORMAL, FRAME, PageAllocator.NO_LIMIT, false);
        a.setOwner(h, "x");
        assertNull(a.ownerAt(0));
        assertNull(a.ownerAt(RUN_A - 1));
        assertNull(a.ownerAt(RUN_A + 4 * FRAME));
        assertNull(a.ownerAt(RUN_B + 4 * FRAME));
        assertNull(a.ownerAt(-1L));
    }
}
