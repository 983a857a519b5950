package io.dmadirect.memory;

import static io.dmadirect.Sizes.KiB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmadirect.Zone;
import io.dmadirect.spi.ZoneLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A frame's per-page arrays exist only once it has been a buddy frame (issue 18: a platform start allocated
 * them for every frame, 7 KiB per 2 MiB). The frames never used by the buddy allocator must answer the
 * lock-free questions as before: no owner, a bad handle into them refused with the usual message, a
 * contiguous allocation's owner found and listed.
 */
class LazyPageArraysTest {
    private static final long FRAME = 64 * KiB;
    private static final long RUN = 0x1_0000_0000L;

    private final BuddyPageAllocator a = new BuddyPageAllocator(new TestMemory(FRAME).run(RUN, 8 * FRAME),
            ZoneLayout.DEFAULT, AllocatorConfig.DEFAULT);

    @Test
    void onlyTheFrameTheBuddyAllocatorTookHasPageArrays() {
        long page = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        int withArrays = 0;
        for (int f = 0; f < 8; f++) {
            Frame frame = framesOf(a)[f];
            if (frame.pageState != null) {
                withArrays++;
                assertEquals(Handles.frame(page), f, "the arrays belong to the page's own frame");
            }
        }
        assertEquals(1, withArrays, "one small allocation makes one buddy frame");
        a.free(page);
    }

    @Test
    void aFrameNeverUsedByTheBuddyAllocatorHasNoOwnerAndRefusesBadHandles() {
        long page = a.allocPages(Zone.NORMAL, 4 * KiB, PageAllocator.NO_LIMIT, false);
        int untouched = Handles.frame(page) == 7 ? 6 : 7;
        assertNull(framesOf(a)[untouched].pageState);
        assertNull(a.ownerAt(RUN + untouched * FRAME));
        assertNull(a.ownerAt(RUN + untouched * FRAME + FRAME - 1));
        long bogus = Handles.pages(untouched, 0, 0);
        IllegalStateException free = assertThrows(IllegalStateException.class, () -> a.free(bogus));
        assertTrue(free.getMessage().contains("is not allocated"), free.getMessage());
        IllegalStateException owner = assertThrows(IllegalStateException.class, () -> a.setOwner(bogus, "x"));
        assertTrue(owner.getMessage().contains("is not allocated"), owner.getMessage());
        a.free(page);
    }

    @Test
    void aContiguousAllocationKeepsItsOwnerWithoutPageArrays() {
        long contiguous = a.allocContiguous(Zone.NORMAL, 3 * FRAME, PageAllocator.NO_LIMIT, false);
        Frame head = framesOf(a)[Handles.frame(contiguous)];
        assertNull(head.pageState, "a contiguous allocation needs no per-page state");
        a.setOwner(contiguous, "contiguous");
        long page = a.allocPages(Zone.NORMAL, 8 * KiB, PageAllocator.NO_LIMIT, false);
        a.setOwner(page, "page");
        long phys = a.physAddress(contiguous);
        assertSame("contiguous", a.ownerAt(phys));
        assertSame("contiguous", a.ownerAt(phys + 3 * FRAME - 1));
        List<Object> owners = new ArrayList<>();
        a.forEachOwner(owners::add);
        assertEquals(List.of("contiguous", "page"), owners.stream().sorted().toList());
        a.free(contiguous);
        assertNull(a.ownerAt(phys));
        owners.clear();
        a.forEachOwner(owners::add);
        assertEquals(List.of("page"), owners);
        a.free(page);
    }

    private static Frame[] framesOf(BuddyPageAllocator allocator) {
        return allocator.frames();
    }
}
